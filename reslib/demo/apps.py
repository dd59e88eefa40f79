from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo data set. The top layer: it may use every app's services."""

    name = "reslib.demo"
    label = "demo"
    verbose_name = _("Demo data")
