#!/usr/bin/env bash
# Install the test dependencies into ./.venv and run the whole suite (arguments are passed on to pytest).
#
#   bash scripts/test.sh                      # everything, on SQLite
#   bash scripts/test.sh tests/libraries -x   # a part
#   RESLIB_DATABASE_URL=postgres://postgres@127.0.0.1:5432/reslib_test bash scripts/test.sh   # on PostgreSQL
#
# Also fails when a model change has no migration (makemigrations --check). Exit status is pytest's, except that
# "no tests collected" counts as a failure.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
cd "$ROOT"

reslib_venv "[test]" || exit 1

echo "Checking that every model change has a migration …"
# An in-memory database: the check needs no real one, and must not touch the site's or the test run's database.
if ! RESLIB_DATABASE_URL="sqlite://:memory:" "$VENV/bin/reslib" makemigrations --check --dry-run; then
    echo "error: models and migrations differ; run \`reslib makemigrations\` and commit the new migration." >&2
    migrations_ok=0
else
    migrations_ok=1
fi

args=("$@")
# The whole suite runs on all cores (pytest-xdist; each worker gets its own test database); a partial run given
# arguments runs in one process. RESLIB_TEST_WORKERS=N (or 0 for no xdist) overrides.
workers="${RESLIB_TEST_WORKERS:-}"
if [ -z "$workers" ]; then
    cores="$(nproc 2>/dev/null || echo 1)"
    if [ "$cores" -ge 2 ] && [ $# -eq 0 ]; then workers=auto; else workers=0; fi
fi
if [ "$workers" != 0 ]; then
    args=(-n "$workers" "${args[@]}")
fi

"$VENV/bin/python" -m pytest "${args[@]}"
status=$?
if [ "$status" -eq 5 ]; then
    echo "error: pytest collected no tests." >&2
    status=1
fi
if [ "$status" -eq 0 ] && [ "$migrations_ok" -ne 1 ]; then
    status=1
fi
exit "$status"
