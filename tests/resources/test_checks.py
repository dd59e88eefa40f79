"""Production without a virus scanner is said loudly: a deploy-check warning and a warning when a process starts.
Each case runs in a fresh interpreter with the documented production settings (tests/test_settings.py)."""

from tests.test_settings import PRODUCTION_ENV, SETUP, run

DEPLOY_CHECK = ["-m", "reslib.manage", "check", "--deploy", "--fail-level", "WARNING"]


def test_deploy_check_warns_in_production_without_clamd(tmp_path):
    without_clamd = {k: v for k, v in PRODUCTION_ENV.items() if k != "RESLIB_CLAMD_URL"}
    result = run(DEPLOY_CHECK, tmp_path, **without_clamd)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "resources.W001" in output and "RESLIB_CLAMD_URL is not set" in output
    # Without --fail-level WARNING it is a warning, not an error: the site still starts.
    result = run(["-m", "reslib.manage", "check", "--deploy"], tmp_path, **without_clamd)
    assert result.returncode == 0 and "resources.W001" in result.stdout + result.stderr


def test_deploy_check_is_quiet_with_clamd_configured(tmp_path):
    result = run(DEPLOY_CHECK, tmp_path, **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "resources.W001" not in result.stdout + result.stderr


def test_every_production_process_logs_the_missing_scanner_when_it_starts(tmp_path):
    without_clamd = {k: v for k, v in PRODUCTION_ENV.items() if k != "RESLIB_CLAMD_URL"}
    result = run(SETUP + "print('started')", tmp_path, **without_clamd)
    assert result.returncode == 0, result.stderr
    assert "RESLIB_CLAMD_URL is not set: uploaded files are NOT scanned for viruses" in result.stderr
    assert "NOT scanned" not in run(SETUP + "print('started')", tmp_path, **PRODUCTION_ENV).stderr
    assert "NOT scanned" not in run(SETUP + "print('started')", tmp_path).stderr  # debug mode: a laptop
