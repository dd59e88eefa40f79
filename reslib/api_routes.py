"""Mounts each app's router on the API."""

from reslib.accounts.api import router as accounts_router
from reslib.core.api import api
from reslib.core.api_audit import router as audit_router
from reslib.libraries.api import router as libraries_router
from reslib.orgs.api import router as orgs_router
from reslib.resources.api import router as resources_router

api.add_router("/", accounts_router)
api.add_router("/", orgs_router)
api.add_router("/libraries", libraries_router)
api.add_router("/audit", audit_router)
api.add_router("/", resources_router)
