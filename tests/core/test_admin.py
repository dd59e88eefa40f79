"""The back office: audit entries are read-only for everyone, superusers included; admin edits are audited."""

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.urls import reverse

from reslib.accounts.models import User
from reslib.core.models import AuditEntry
from reslib.orgs.models import Organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.com", "root-password-123456")


@pytest.fixture
def entry(library):
    return AuditEntry.objects.filter(action="library.create").get()


def test_model_admin_grants_no_write_permission_even_to_superusers(superuser):
    model_admin = site._registry[AuditEntry]
    request = RequestFactory().get("/")
    request.user = superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)


def test_superuser_can_view_but_not_change_or_delete_entries(client, superuser, entry):
    client.force_login(superuser)
    assert client.get(reverse("admin:core_auditentry_changelist")).status_code == 200
    change_url = reverse("admin:core_auditentry_change", args=[entry.pk])
    page = client.get(change_url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()

    response = client.post(change_url, {"action": "tampered", "reason": "x"})
    assert response.status_code == 403
    response = client.post(reverse("admin:core_auditentry_delete", args=[entry.pk]), {"post": "yes"})
    assert response.status_code == 403
    response = client.post(reverse("admin:core_auditentry_changelist"),
                           {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    assert response.status_code in (200, 302)
    assert client.get(reverse("admin:core_auditentry_add")).status_code == 403

    entry.refresh_from_db()
    assert entry.action == "library.create"
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_admin_edit_of_an_organisation_is_audited(client, superuser, college):
    client.force_login(superuser)
    url = reverse("admin:orgs_organization_change", args=[college.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data["address"] = "南京市江宁区龙眠大道"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    college.refresh_from_db()
    assert college.address == "南京市江宁区龙眠大道"
    entry = AuditEntry.objects.get(action="admin.change", target_type="orgs.organization")
    assert entry.actor == superuser
    assert entry.after == {"address": "南京市江宁区龙眠大道"}
    assert entry.before == {"address": ""}


def test_admin_pages_of_accounts_and_orgs_render(client, superuser, lead):
    client.force_login(superuser)
    for name in ["accounts_user_changelist", "accounts_rolegrant_changelist", "accounts_apitoken_changelist",
                 "orgs_organization_changelist", "orgs_region_changelist", "orgs_major_changelist"]:
        assert client.get(reverse(f"admin:{name}")).status_code == 200, name
    assert client.get(reverse("admin:accounts_user_change", args=[lead.pk])).status_code == 200
    assert Organization.objects.exists()
