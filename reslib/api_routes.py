"""Mounts each app's router on the API."""

from reslib.accounts.api import router as accounts_router
from reslib.catalogue.api import router as catalogue_router
from reslib.core.api import api
from reslib.core.api_audit import router as audit_router
from reslib.libraries.api import router as libraries_router
from reslib.orgs.api import router as orgs_router
from reslib.questions.api import router as questions_router
from reslib.questions.paper_api import router as papers_router
from reslib.resources.api import router as resources_router
from reslib.notifications.api import router as notifications_router
from reslib.review.api import router as review_router
from reslib.review.moderation_api import router as moderation_router

api.add_router("/", accounts_router)
api.add_router("/", orgs_router)
api.add_router("/libraries", libraries_router)
api.add_router("/audit", audit_router)
api.add_router("/", resources_router)
api.add_router("/", notifications_router)
api.add_router("/", review_router)
api.add_router("/", moderation_router)
api.add_router("/", catalogue_router)
api.add_router("/", questions_router)
api.add_router("/", papers_router)
