import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from reslib.core import audit
from reslib.core.models import AuditEntry
from reslib.core.request_context import reset_client_address, set_client_address


@pytest.fixture
def entry(lead):
    with transaction.atomic():
        token = set_client_address("203.0.113.7")
        try:
            return audit.record(actor=lead, action="test.touch", target=lead, before={"a": 1}, after={"a": 2},
                                reason="测试")
        finally:
            reset_client_address(token)


def test_entry_records_actor_target_change_and_address(entry, lead):
    assert entry.actor_username == "lead"
    assert entry.target_type == "accounts.user" and entry.target_id == str(lead.pk)
    assert (entry.before, entry.after, entry.client_address) == ({"a": 1}, {"a": 2}, "203.0.113.7")


def test_entries_cannot_be_changed_or_deleted(entry):
    entry.action = "test.tampered"
    with pytest.raises(PermissionDenied):
        entry.save()
    with pytest.raises(PermissionDenied):
        entry.delete()
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.filter(pk=entry.pk).update(action="x")
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.touch"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_record_refuses_to_run_outside_a_transaction(lead):
    with pytest.raises(RuntimeError):
        audit.record(actor=lead, action="test.loose", target=lead)
