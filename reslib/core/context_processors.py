from django.conf import settings

from reslib.accounts import roles


def site(request):
    user = getattr(request, "user", None)
    is_operator = roles.is_operator(user)
    return {
        "site_debug": settings.DEBUG,
        "user_is_operator": is_operator,
        "user_is_province_admin": roles.is_province_admin(user),
        # Operators see on every page that production runs without virus scanning (reslib.resources.scanning).
        "virus_scan_off": is_operator and not settings.DEBUG and not settings.RESLIB_CLAMD_URL,
    }
