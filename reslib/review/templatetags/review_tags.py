"""The review panel of the resource page: the open request's state, every request's decisions and comments."""

from django import template

from reslib.resources import policies as resource_policies
from reslib.resources import scanning

from .. import checklist, policies, queries
from ..models import DECIDABLE_STATES, OPEN_STATES

register = template.Library()


@register.inclusion_tag("review/_resource_panel.html", takes_context=True)
def review_panel(context, resource):
    """Shown to the library team and operators only (decisions and comments are internal to the library)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if resource is None or not resource_policies.can_view_unpublished(user, resource):
        return {"show": False}
    requests = list(queries.history(resource.pk)[:20])
    current = next((r for r in requests if r.state in OPEN_STATES), None)
    can_review_current = bool(current and current.state in DECIDABLE_STATES
                              and policies.decide_refusal(user, current) is None)
    return {
        "show": True,
        "resource": resource,
        "requests": requests,
        "current": current,
        "can_review_current": can_review_current,
        "can_withdraw": bool(current and policies.can_withdraw(user, current)),
        "can_manage_levels": policies.can_manage_levels(user, resource.library),
        "checklist_labels": checklist.LABELS,
        "csrf_token": context.get("csrf_token"),
        "errors": (context.get("errors") or {}).get("withdraw"),
    }


@register.filter
def checklist_label(code):
    return checklist.LABELS.get(code, code)


@register.simple_tag
def not_scanned_reasons(version):
    """Why some files of the version were not scanned for viruses ([] when clamd scanned them all)."""
    return scanning.not_scanned_reasons(f.blob for f in version.files.select_related("blob"))
