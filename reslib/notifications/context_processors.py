"""The unread-notification count for the header bell: one cheap query, only when a page shows the bell."""

from django.utils.functional import SimpleLazyObject


def notifications(request):
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return {"notifications_unread": 0}

    def count():
        from .services import unread_count

        return unread_count(user)

    return {"notifications_unread": SimpleLazyObject(count)}
