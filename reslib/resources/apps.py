from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResourcesConfig(AppConfig):
    name = "reslib.resources"
    label = "resources"
    verbose_name = _("Resources")

    def ready(self):
        from . import checks, scanning  # noqa: F401 — registers the system checks

        # Every process (web server, worker, commands) says it on start: production without virus scanning.
        scanning.warn_if_unprotected()
