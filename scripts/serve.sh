#!/usr/bin/env bash
# ResLib, all in one: virtualenv, install, migrate, demo data (debug mode, empty database), background worker and
# the granian app server on http://127.0.0.1:${RESLIB_PORT:-8000}. Ctrl-C stops everything it started.
#
#   bash scripts/serve.sh
#
# Needs only Python 3.11+ with venv (Debian/Ubuntu: python3, python3-venv). No root, no Redis: SQLite in WAL mode,
# files under var/, background tasks in the database. Configure with RESLIB_* environment variables (README.md).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
cd "$ROOT"

HOST="${RESLIB_HOST:-127.0.0.1}"
PORT="${RESLIB_PORT:-8000}"

debug_mode() {
    # Mirrors reslib.settings: RESLIB_DEBUG unset means debug; 0/false/no/off/empty mean production.
    [ -z "${RESLIB_DEBUG+set}" ] && return 0
    local value="${RESLIB_DEBUG,,}"
    case "${value//[[:space:]]/}" in
        0 | false | no | off | "") return 1 ;;
        *) return 0 ;;
    esac
}

reslib_venv ""
RESLIB="$VENV/bin/reslib"

if ! "$VENV/bin/python" - "$HOST" "$PORT" <<'PY'; then
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
family = socket.AF_INET6 if ":" in host else socket.AF_INET
with socket.socket(family, socket.SOCK_STREAM) as probe:
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((host, port))
    except OSError as exc:
        sys.exit(f"error: cannot listen on {host}:{port} ({exc.strerror}). Is ResLib already running? "
                 "Choose another port with RESLIB_PORT=8080.")
PY
    exit 1
fi

mkdir -p "${RESLIB_VAR_DIR:-$ROOT/var}"
"$RESLIB" migrate --noinput -v 0
"$RESLIB" collectstatic --noinput -v 0
if debug_mode; then
    "$RESLIB" load_demo --if-empty
    "$RESLIB" search_reindex -v 0
fi

PIDS=()
cleanup() {
    trap - EXIT INT TERM
    if [ ${#PIDS[@]} -gt 0 ]; then
        echo
        echo "Stopping ResLib …"
        kill -TERM "${PIDS[@]}" 2>/dev/null || true
        for _ in $(seq 1 50); do
            local alive=0
            for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
            [ "$alive" = 0 ] && break
            sleep 0.2
        done
        for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
        wait 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Each child runs in its own process group (job control), so a Ctrl-C in the terminal reaches only this script,
# which then stops the children exactly once and waits for them (granian treats a second signal as "force quit").
set -m
"$RESLIB" db_worker --no-reload &
PIDS+=($!)
# Hourly housekeeping: remove abandoned uploads, mark overdue reviews and notify their reviewers.
(
    trap 'kill "$nap" 2>/dev/null; exit 0' TERM INT
    while true; do
        sleep 3600 & nap=$!
        wait "$nap"
        "$RESLIB" cleanup_uploads -v 0
        "$RESLIB" review_overdue -v 0
    done
) &
PIDS+=($!)
"$VENV/bin/granian" --interface wsgi --host "$HOST" --port "$PORT" --log-level warning reslib.wsgi:application &
PIDS+=($!)
set +m

# Wait until the server answers (or one of them has died) before telling the user where to go.
url="http://$HOST:$PORT/"
ready=0
for _ in $(seq 1 100); do
    for pid in "${PIDS[@]}"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "error: the app server or the worker stopped while starting (is port $PORT free? set RESLIB_PORT)." >&2
            exit 1
        fi
    done
    if "$VENV/bin/python" - "$HOST" "$PORT" <<'PY' 2>/dev/null; then
import http.client, sys
# Any HTTP answer means the server is up (in production mode that is a redirect to HTTPS).
connection = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=2)
connection.request("GET", "/")
connection.getresponse()
PY
        ready=1
        break
    fi
    sleep 0.2
done
[ "$ready" = 1 ] || echo "warning: $url did not answer yet; starting anyway." >&2

echo
echo "  ResLib is running at $url   (API docs: ${url}api/v1/docs)"
if debug_mode; then
    echo
    echo "  Demo accounts (debug mode only), password: reslib-demo"
    echo "    operator  平台运营        province  省级管理员 (江苏省)"
    echo "    lead      项目负责人      builder   建设者      reviewer  审核员"
    echo "    teacher   教师            student   学生"
fi
echo
echo "  Press Ctrl-C to stop."
echo

# Run until Ctrl-C/SIGTERM, or until either process ends by itself (then stop the other one too).
set +e
wait -n "${PIDS[@]}"
status=$?
set -e
echo "A ResLib process stopped (exit status $status); shutting down." >&2
exit "$status"
