"""Absolute links for texts read away from the site (e-mails), built from the site's public address."""

from urllib.parse import urlsplit

from django.conf import settings


def absolute_url(path: str) -> str:
    """'/resources/1/' → 'https://reslib.example.edu.cn/resources/1/' (settings.RESLIB_SITE_URL); an http(s) address
    that is already absolute stays as it is."""
    parts = urlsplit(path)
    if parts.scheme in {"http", "https"} and parts.netloc:
        return path
    return f"{settings.RESLIB_SITE_URL}/{path.lstrip('/')}"
