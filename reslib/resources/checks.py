"""System checks of the resources app, shown by `reslib check --deploy`."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def virus_scanner_configured(app_configs=None, **kwargs):
    if settings.RESLIB_CLAMD_URL:
        return []
    return [checks.Warning(
        "No virus scanner: RESLIB_CLAMD_URL is not set, so uploaded files are not scanned for viruses and every file "
        "shows as not scanned (未扫描).",
        hint="Install clamav-daemon and set RESLIB_CLAMD_URL, e.g. unix:///run/clamav/clamd.ctl or "
             "tcp://127.0.0.1:3310.",
        id="resources.W001",
    )]
