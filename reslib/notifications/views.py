"""The notification centre: one's own notifications only, newest first; mark read; e-mail opt-out."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from reslib.core.errors import NotFound

from . import services
from .models import Notification

PAGE_SIZE = 30


@login_required
def centre(request):
    notifications = Notification.objects.filter(user=request.user)
    if request.GET.get("unread") == "1":
        notifications = notifications.filter(read_at__isnull=True)
    page_obj = Paginator(notifications.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/centre.html", {
        "page_obj": page_obj,
        "only_unread": request.GET.get("unread") == "1",
        "email_enabled": services.email_enabled(request.user),
        "has_email": bool(request.user.email),
    })


@login_required
@require_POST
def read(request, pk: int):
    try:
        notification = services.mark_read(request.user, pk)
    except NotFound:
        return render(request, "404.html", status=404)
    target = request.POST.get("next") or ""
    if request.POST.get("open") == "1" and notification.url and url_has_allowed_host_and_scheme(
            notification.url, allowed_hosts={request.get_host()}):
        return redirect(notification.url)
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:centre")


@login_required
@require_POST
def read_all(request):
    count = services.mark_all_read(request.user)
    messages.success(request, _("%(count)d notifications marked as read.") % {"count": count})
    return redirect("notifications:centre")


@login_required
@require_POST
def email_preference(request):
    enabled = request.POST.get("email_enabled") in ("1", "on", "true")
    services.set_email_enabled(request.user, enabled)
    messages.success(request, _("E-mail notifications are on.") if enabled else _("E-mail notifications are off."))
    return redirect("notifications:centre")
