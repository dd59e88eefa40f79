"""Settings come only from RESLIB_* environment variables; production mode refuses unsafe values.

Each case runs in a fresh interpreter, because settings are read once per process.
"""

import json
import os
import secrets
import subprocess
import sys
import uuid

import pytest

PRODUCTION_ENV = {
    "RESLIB_DEBUG": "0",
    "RESLIB_SECRET_KEY": secrets.token_urlsafe(48),  # 64 characters
    "RESLIB_ALLOWED_HOSTS": "reslib.example.edu.cn",
    "RESLIB_SITE_URL": "https://reslib.example.edu.cn",
    "RESLIB_BEHIND_PROXY": "1",
    "RESLIB_CLAMD_URL": "unix:///run/clamav/clamd.ctl",  # without a virus scanner the deploy check warns
}


def run(code_or_args, tmp_path, **env_vars) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESLIB_")}
    env.update(DJANGO_SETTINGS_MODULE="reslib.settings", RESLIB_VAR_DIR=str(tmp_path), **env_vars)
    args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=120)


SETUP = "import django; django.setup(); from django.conf import settings; "


def test_debug_mode_is_the_default_and_uses_sqlite_under_var_dir(tmp_path):
    result = run(SETUP + "import json; print(json.dumps([settings.DEBUG, settings.DATABASES['default']['NAME'], "
                 "settings.LANGUAGE_CODE, str(settings.MEDIA_ROOT)]))", tmp_path)
    assert result.returncode == 0, result.stderr
    debug, db_name, language, media_root = json.loads(result.stdout.strip().splitlines()[-1])
    assert debug is True
    assert db_name == str(tmp_path / "reslib.sqlite3")
    assert language == "zh-hans"
    assert media_root == str(tmp_path / "media")


def test_production_mode_refuses_the_default_secret_key(tmp_path):
    result = run(SETUP + "print('started')", tmp_path, RESLIB_DEBUG="0")
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "RESLIB_SECRET_KEY" in result.stderr


def test_production_mode_refuses_a_short_secret_key(tmp_path):
    result = run(SETUP + "print('started')", tmp_path, RESLIB_DEBUG="0", RESLIB_SECRET_KEY="too-short")
    assert result.returncode != 0
    assert "RESLIB_SECRET_KEY" in result.stderr


def test_production_mode_refuses_wildcard_hosts(tmp_path):
    result = run(SETUP + "print('started')", tmp_path, **{**PRODUCTION_ENV, "RESLIB_ALLOWED_HOSTS": "*"})
    assert result.returncode != 0
    assert "RESLIB_ALLOWED_HOSTS" in result.stderr


def test_production_mode_refuses_to_start_without_the_site_address(tmp_path):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "RESLIB_SITE_URL"}
    result = run(SETUP + "print('started')", tmp_path, **env)
    assert result.returncode != 0 and "started" not in result.stdout
    assert "RESLIB_SITE_URL" in result.stderr and "e-mails" in result.stderr
    result = run(["-m", "reslib.manage", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **env)
    assert result.returncode != 0 and "RESLIB_SITE_URL" in result.stderr


@pytest.mark.parametrize("value", ["reslib.example.edu.cn", "ftp://reslib.example.edu.cn", "https://",
                                   "https://x/?a=1"])
def test_a_site_address_that_is_not_one_is_refused(tmp_path, value):
    result = run(SETUP + "print('started')", tmp_path, RESLIB_SITE_URL=value)
    assert result.returncode != 0 and "started" not in result.stdout
    assert "RESLIB_SITE_URL" in result.stderr


def test_site_address_defaults_to_the_local_server_in_debug_mode(tmp_path):
    result = run(SETUP + "print(settings.RESLIB_SITE_URL)", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["http://127.0.0.1:8000"]
    result = run(SETUP + "print(settings.RESLIB_SITE_URL)", tmp_path,
                 **{**PRODUCTION_ENV, "RESLIB_SITE_URL": "https://reslib.example.edu.cn/"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["https://reslib.example.edu.cn"]


def test_a_debug_value_that_is_not_a_boolean_is_refused(tmp_path):
    result = run(SETUP + "print('started')", tmp_path, RESLIB_DEBUG="maybe")
    assert result.returncode != 0
    assert "RESLIB_DEBUG" in result.stderr


def test_deploy_check_passes_with_the_documented_production_settings(tmp_path):
    result = run(["-m", "reslib.manage", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_complains_in_debug_mode(tmp_path):
    result = run(["-m", "reslib.manage", "check", "--deploy", "--fail-level", "WARNING"], tmp_path)
    assert result.returncode != 0
    assert "DEBUG" in result.stdout + result.stderr


def test_production_settings_are_hardened(tmp_path):
    result = run(SETUP + "import json; print(json.dumps([settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
                 "settings.SECURE_HSTS_SECONDS, settings.SECURE_PROXY_SSL_HEADER, settings.ALLOWED_HOSTS]))",
                 tmp_path, **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    session_secure, csrf_secure, hsts, proxy_header, hosts = json.loads(result.stdout.strip().splitlines()[-1])
    assert session_secure and csrf_secure and hsts >= 31536000
    assert proxy_header == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert hosts == ["reslib.example.edu.cn"]


def test_database_url_selects_postgresql(tmp_path):
    result = run(SETUP + "d = settings.DATABASES['default']; print(d['ENGINE'], d['NAME'], d['HOST'], d['PORT'])",
                 tmp_path, RESLIB_DATABASE_URL="postgres://reslib:secret@db.example.internal:5433/reslib")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "reslib", "db.example.internal", "5433"]


def test_without_redis_cache_is_local_and_sessions_are_in_the_database(tmp_path):
    result = run(SETUP + "print(settings.CACHES['default']['BACKEND'], settings.SESSION_ENGINE)", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.core.cache.backends.locmem.LocMemCache", "django.contrib.sessions.backends.db"]


REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_client():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        message = f"Redis does not answer at {REDIS_URL}; the RESLIB_REDIS_URL test needs a running Redis."
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)
    yield client
    client.close()


def test_redis_url_moves_cache_and_sessions_to_redis(tmp_path, redis_client):
    key = f"reslib-test-{uuid.uuid4().hex}"
    code = SETUP + (
        "from django.core.cache import cache; "
        "from django.contrib.sessions.backends.cache import SessionStore; "
        f"cache.set({key!r}, 'from-django', 60); "
        "s = SessionStore(); s['who'] = 'lead'; s.create(); s.save(); "
        "print(settings.CACHES['default']['BACKEND'], settings.SESSION_ENGINE, s.session_key)"
    )
    result = run(code, tmp_path, RESLIB_REDIS_URL=REDIS_URL)
    assert result.returncode == 0, result.stderr
    backend, engine, session_key = result.stdout.split()[-3:]
    assert backend == "django_redis.cache.RedisCache"
    assert engine == "django.contrib.sessions.backends.cache"
    cache_key = f":1:{key}"
    session_cache_key = f":1:django.contrib.sessions.cache{session_key}"
    try:
        # Written by Django in the other process, found in Redis by this one.
        assert redis_client.exists(cache_key) == 1
        assert 0 < redis_client.ttl(cache_key) <= 60
        assert redis_client.exists(session_cache_key) == 1
        # And read back through Django from a third process.
        check = run(SETUP + f"from django.core.cache import cache; print(cache.get({key!r}))", tmp_path,
                    RESLIB_REDIS_URL=REDIS_URL)
        assert check.returncode == 0, check.stderr
        assert check.stdout.strip().splitlines()[-1] == "from-django"
    finally:
        redis_client.delete(cache_key, session_cache_key)


def test_every_setting_read_from_the_environment_is_documented_in_the_readme():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    source = (root / "reslib" / "settings.py").read_text()
    names = set(re.findall(r"\benv(?:_[a-z_]+)?\(\s*\"([A-Z0-9_]+)\"", source))
    assert {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "MEDIA_ROOT"} <= names
    readme = (root / "README.md").read_text()
    undocumented = sorted(n for n in names if f"`RESLIB_{n}`" not in readme)
    assert not undocumented, f"add these to the configuration table in README.md: {undocumented}"


def test_production_static_files_collect_with_the_manifest_storage(tmp_path):
    """`reslib collectstatic` in production mode (WhiteNoise's manifest storage) must succeed: a vendored file that
    points at a missing file (e.g. a `sourceMappingURL`) would otherwise break every deployment."""
    static_root = tmp_path / "static"
    result = run(["-m", "reslib.manage", "collectstatic", "--noinput", "-v", "0"], tmp_path,
                 **PRODUCTION_ENV, RESLIB_STATIC_ROOT=str(static_root))
    assert result.returncode == 0, result.stderr[-2000:]
    assert (static_root / "staticfiles.json").exists()
    assert any(static_root.glob("admin/css/base.*.css.gz"))
