"""Whether to show the review workbench in the header: computed only when a page asks."""

from django.utils.functional import SimpleLazyObject


def review(request):
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return {"user_is_reviewer": False}

    def is_reviewer():
        from .policies import is_reviewer_anywhere

        return is_reviewer_anywhere(user)

    return {"user_is_reviewer": SimpleLazyObject(is_reviewer)}
