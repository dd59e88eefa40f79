"""`reslib health`: the readiness check for deploy scripts and monitoring."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def run_health(**kwargs) -> str:
    out = io.StringIO()
    call_command("health", stdout=out, **kwargs)
    return out.getvalue()


@pytest.mark.django_db
def test_health_reports_every_part_ok(settings, tmp_path):
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path / "media"
    output = run_health()
    for part in ("database", "migrations", "cache", "media", "static"):
        assert f"ok   {part}:" in output
    assert "FAIL" not in output
    assert (tmp_path / "media").is_dir()
    assert list((tmp_path / "media").iterdir()) == []  # the probe file is removed again


@pytest.mark.django_db
def test_health_fails_when_media_root_is_not_writable(settings, tmp_path):
    settings.DEBUG = True
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings.MEDIA_ROOT = blocker / "media"
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 health check"):
        call_command("health", stdout=out)
    assert "FAIL media" in out.getvalue()
    assert "ok   database" in out.getvalue()  # the other parts are still reported


@pytest.mark.django_db
def test_health_in_production_mode_needs_collected_static_files(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("health", stdout=out)
    assert "FAIL static" in out.getvalue()
    assert "collectstatic" in out.getvalue()


@pytest.mark.django_db
def test_health_in_production_mode_passes_once_static_files_are_collected(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STATIC_ROOT.mkdir()
    (settings.STATIC_ROOT / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    assert "ok   static: collected" in run_health()


@pytest.mark.django_db
def test_health_fails_on_unapplied_migrations(monkeypatch, settings, tmp_path):
    from django.db.migrations.executor import MigrationExecutor

    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path / "media"
    real_plan = MigrationExecutor.migration_plan

    def pretend_one_is_missing(self, targets, clean_start=False):
        migration = self.loader.graph.nodes[("libraries", "0001_initial")]
        return [(migration, False)] + real_plan(self, targets, clean_start)

    monkeypatch.setattr(MigrationExecutor, "migration_plan", pretend_one_is_missing)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("health", stdout=out)
    assert "FAIL migrations: 1 unapplied migration(s): libraries.0001_initial" in out.getvalue()


@pytest.mark.django_db
def test_every_model_change_has_a_migration():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit:  # pragma: no cover - the message says which app needs one
        pytest.fail(f"models and migrations differ; run `reslib makemigrations`:\n{out.getvalue()}")
