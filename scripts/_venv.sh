# Shared by serve.sh and test.sh (sourced, not run): find Python 3.11+, make ./.venv, install ResLib into it.
# Usage: reslib_venv "" | "[test]"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RESLIB_VENV:-$ROOT/.venv}"

reslib_venv() {
    local extras="$1" python="${PYTHON:-python3}"
    if [ ! -x "$VENV/bin/python" ]; then
        if ! command -v "$python" >/dev/null 2>&1; then
            echo "error: $python not found. Install Python 3.11 or newer (Debian/Ubuntu: apt install python3 python3-venv)." >&2
            return 1
        fi
        if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            echo "error: ResLib needs Python 3.11 or newer; $python is $("$python" -V 2>&1)." >&2
            echo "       Set PYTHON=/path/to/python3.11 (or newer) and run again." >&2
            return 1
        fi
        echo "Creating the virtualenv in $VENV …"
        if ! "$python" -m venv "$VENV"; then
            rm -rf "$VENV"
            echo "error: could not create a virtualenv. On Debian/Ubuntu install python3-venv (apt install python3-venv)." >&2
            return 1
        fi
    fi
    # Reinstall only when pyproject.toml changed since the last install with these extras (the install is editable,
    # so code changes need no reinstall).
    local stamp="$VENV/.reslib-installed${extras:+-test}" digest
    digest="$("$VENV/bin/python" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$ROOT/pyproject.toml")"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
        echo "Installing ResLib${extras:+ with test dependencies} into $VENV (this takes a minute the first time) …"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT$extras" || return 1
        echo "$digest" >"$stamp"
    fi
}
