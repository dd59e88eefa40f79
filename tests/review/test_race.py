"""Two reviewers deciding the same request at the same moment: exactly one decision counts, the other is told.

Runs on PostgreSQL (row lock: SELECT … FOR UPDATE, the second transaction waits and then sees the closed request).
On SQLite the test database is in memory with a shared cache, where a second connection fails at once with
"database table is locked" instead of waiting, so the test is skipped there; SQLite serialises writers anyway
(IMMEDIATE transactions), which the service relies on in the embedded set-up.
"""

import threading

import pytest
from django.db import close_old_connections, connection

from reslib.core.errors import Conflict
from reslib.review import services
from reslib.review.models import ReviewDecision, ReviewRequest

from .conftest import ALL_PASS, ready_resource, run_on_commit

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.parametrize("second_decision", ["approve", "reject"])
def test_two_reviewers_decide_at_once(building, uploader, reviewer_a, reviewer_b, second_decision):
    if connection.vendor == "sqlite":
        pytest.skip("needs a database with row locks shared between connections (PostgreSQL)")
    request = run_on_commit(services.submit_for_review, ready_resource(building, uploader).latest_version,
                            by=uploader, commitment_accepted=True)
    request = ReviewRequest.objects.get(pk=request.pk)
    level_id = request.level_id
    barrier = threading.Barrier(2)
    results = {}

    def decide(user, decision):
        close_old_connections()
        try:
            barrier.wait(timeout=10)
            services.decide(request.pk, by=user, decision=decision,
                            checklist_results=ALL_PASS if decision == "approve" else {},
                            comment="" if decision == "approve" else "不予收录。", level_id=level_id)
            results[user.username] = "ok"
        except Conflict as exc:
            results[user.username] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(reviewer_a, "approve")),
               threading.Thread(target=decide, args=(reviewer_b, second_decision))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results.values()) in (["ok", "review.level_changed"], ["ok", "review.closed"]), results
    human = ReviewDecision.objects.filter(request_id=request.pk, reviewer__isnull=False)
    assert human.count() == 1
    winner = human.get().reviewer.username
    assert results[winner] == "ok"
