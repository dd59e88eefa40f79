from django.conf import settings

from reslib.accounts import roles


def site(request):
    user = getattr(request, "user", None)
    return {
        "site_debug": settings.DEBUG,
        "user_is_operator": roles.is_operator(user),
        "user_is_province_admin": roles.is_province_admin(user),
    }
