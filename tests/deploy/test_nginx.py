"""The shipped nginx site (deploy/nginx/reslib.conf) in front of a live ResLib, run for real.

The test reads the shipped file and substitutes only its DEPLOY values (ports, paths, certificate, upstream address:
see the file's header), so what is tested is what operators install. It proves:
  * a permission-checked download is answered by the app with X-Accel-Redirect and nginx sends the bytes (full and
    Range 206), keeping the app's headers and never leaking X-Accel-Redirect; a refused user gets nothing;
  * /_protected/ and /media/ are unreachable from outside (404);
  * tus uploads are streamed to the app (it sees the request before the body is complete), ordinary paths are
    buffered, and client_max_body_size is 4g for uploads and 64m elsewhere;
  * static files get the long cache for hashed names; plain HTTP redirects to HTTPS.
Needs the nginx and openssl binaries (Debian: apt-get install nginx-light openssl). Without them the test is skipped,
except under CI=true where it fails.
"""

import hashlib
import http.client
import io
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from reslib.resources import delivery
from reslib.resources.models import Blob

from .. import factories

SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "reslib.conf"
HOST = "reslib.example.edu.cn"
MAX_UPLOAD = 4 * 1024**3  # "4g" in the config = RESLIB_MAX_UPLOAD_BYTES default


# --- the app side: a permission-checked download view and two body probes ------------------------------------

def _download(request, pk):
    if not request.user.is_authenticated:
        raise PermissionDenied
    blob = Blob.objects.get(pk=pk)
    return delivery.serve_blob(request, blob, filename=request.GET.get("name", "资源.bin"),
                               as_attachment=bool(request.GET.get("download")))


PROBE_STARTED = threading.Event()


@csrf_exempt
def _body_probe(request):
    """Signals as soon as the app sees the request, then reads the whole body in pieces and reports its size."""
    PROBE_STARTED.set()
    total = 0
    while chunk := request.read(65536):
        total += len(chunk)
    return HttpResponse(str(total), content_type="text/plain")


urlpatterns = [
    path("files/<int:pk>/", _download),
    path("api/v1/uploads/probe", _body_probe),
    path("forms/probe", _body_probe),
    path("", include("reslib.urls")),
]


# --- nginx ----------------------------------------------------------------------------------------------------

def _require(binary: str) -> str:
    found = shutil.which(binary) or next((p for p in (f"/usr/sbin/{binary}", f"/sbin/{binary}") if os.path.exists(p)),
                                         None)
    if found:
        return found
    message = f"{binary} is not installed (Debian: apt-get install nginx-light openssl); nginx config test skipped"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _substitute(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in text, f"deploy/nginx/reslib.conf no longer contains {old!r}: update the test's DEPLOY values"
        text = text.replace(old, new)
    return text


class Site:
    def __init__(self, https_port, http_port, media, static):
        self.https_port, self.http_port, self.media, self.static = https_port, http_port, media, static
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE

    def request(self, method, url, headers=None, body=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.https_port, context=self.context, timeout=30)
        try:
            conn.request(method, url, body=body, headers={"Host": HOST, **(headers or {})})
            response = conn.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data, response.headers
        finally:
            conn.close()

    def raw_socket(self):
        sock = socket.create_connection(("127.0.0.1", self.https_port), timeout=30)
        return self.context.wrap_socket(sock, server_hostname=HOST)


@pytest.fixture
def site(live_server, settings, tmp_path):
    nginx = _require("nginx")
    openssl = _require("openssl")
    media, static, prefix = tmp_path / "media", tmp_path / "static", tmp_path / "nginx"
    for d in (media, static / "css", prefix / "tmp", prefix / "acme"):
        d.mkdir(parents=True)
    (static / "css" / "site.0123456789ab.css").write_text("body{color:#123}")
    (static / "css" / "site.css").write_text("body{color:#123}")
    settings.MEDIA_ROOT = media
    settings.RESLIB_X_ACCEL_PREFIX = "/_protected"
    settings.ALLOWED_HOSTS = [HOST, "127.0.0.1", "localhost"]
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={HOST}",
                    "-keyout", str(prefix / "key.pem"), "-out", str(prefix / "cert.pem")],
                   check=True, capture_output=True)

    https_port, http_port = _free_port(), _free_port()
    upstream = live_server.url.removeprefix("http://")
    site_conf = _substitute(SHIPPED.read_text(), {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "127.0.0.1:8000": upstream,
        "/etc/ssl/reslib/fullchain.pem": str(prefix / "cert.pem"),
        "/etc/ssl/reslib/privkey.pem": str(prefix / "key.pem"),
        "/srv/reslib/var/static/": f"{static}/",
        "/srv/reslib/var/media/": f"{media}/",
        "/var/www/letsencrypt": str(prefix / "acme"),
    })
    (prefix / "reslib.conf").write_text(site_conf)
    mime_types = Path("/etc/nginx/mime.types")
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    tmp = prefix / "tmp"
    (prefix / "nginx.conf").write_text(f"""
{user}
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 64; }}
http {{
    {f"include {mime_types};" if mime_types.exists() else "types { text/css css; }"}
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    include {prefix}/reslib.conf;
}}
""")
    check = subprocess.run([nginx, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf")], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"nginx did not start: {(prefix / 'error.log').read_text()}") from None
                time.sleep(0.05)
        yield Site(https_port, http_port, media, static)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CONTENT = os.urandom(3 * 1024 * 1024 + 17)


def _blob(content=CONTENT, mime_type="video/mp4") -> Blob:
    digest = hashlib.sha256(content).hexdigest()
    name = f"blobs/{digest[:2]}/{digest[2:4]}/{digest}"
    default_storage.save(name, io.BytesIO(content))
    return Blob.objects.create(sha256=digest, size=len(content), storage_name=name, mime_type=mime_type, kind="video")


def _session_cookie(college_user) -> str:
    client = Client()
    client.force_login(college_user)
    return f"sessionid={client.cookies['sessionid'].value}"


@pytest.fixture
def cookie(db):
    return _session_cookie(factories.user("downloader", org=factories.organization()))


def test_protected_download_goes_through_x_accel_with_ranges(site, cookie):
    blob = _blob()
    status, headers, data, _ = site.request("GET", f"/files/{blob.pk}/?download=1", {"Cookie": cookie})
    assert status == 200
    assert hashlib.sha256(data).hexdigest() == blob.sha256
    assert "x-accel-redirect" not in headers
    assert headers["content-type"] == "video/mp4"
    assert headers["content-disposition"] == "attachment; filename=\"download.bin\"; filename*=UTF-8''%E8%B5%84%E6%BA%90.bin"
    assert headers["cache-control"] == "private, no-cache"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["accept-ranges"] == "bytes"

    status, headers, data, _ = site.request("GET", f"/files/{blob.pk}/", {"Cookie": cookie,
                                                                           "Range": "bytes=1048576-2097151"})
    assert status == 206
    assert headers["content-range"] == f"bytes 1048576-2097151/{len(CONTENT)}"
    assert data == CONTENT[1048576:2097152]
    etag = headers["etag"]

    status, headers, data, _ = site.request("GET", f"/files/{blob.pk}/", {"Cookie": cookie, "Range": "bytes=-100"})
    assert (status, data) == (206, CONTENT[-100:])
    status, headers, _, _ = site.request("GET", f"/files/{blob.pk}/", {"Cookie": cookie,
                                                                        "Range": f"bytes={len(CONTENT)}-"})
    assert status == 416
    # nginx's own validators are consistent: If-Range with its ETag honours the range, If-None-Match gives 304.
    status, _, data, _ = site.request("GET", f"/files/{blob.pk}/", {"Cookie": cookie, "Range": "bytes=0-9",
                                                                     "If-Range": etag})
    assert (status, data) == (206, CONTENT[:10])
    status, _, data, _ = site.request("GET", f"/files/{blob.pk}/", {"Cookie": cookie, "Range": "bytes=0-9",
                                                                     "If-Range": '"stale"'})
    assert (status, len(data)) == (200, len(CONTENT))
    status, _, data, _ = site.request("GET", f"/files/{blob.pk}/", {"Cookie": cookie, "If-None-Match": etag})
    assert (status, data) == (304, b"")


def test_refused_user_and_direct_access_get_nothing(site, cookie):
    blob = _blob()
    status, headers, data, _ = site.request("GET", f"/files/{blob.pk}/", {"Range": "bytes=0-99"})
    assert status == 403
    assert CONTENT[:100] not in data
    for direct in (f"/_protected/{blob.storage_name}", f"/media/{blob.storage_name}", "/_protected/"):
        status, _, data, _ = site.request("GET", direct, {"Cookie": cookie})
        assert status == 404, direct
        assert CONTENT[:100] not in data


def test_active_content_keeps_its_sandbox_behind_nginx(site, cookie):
    blob = _blob(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "image/svg+xml")
    status, headers, data, _ = site.request("GET", f"/files/{blob.pk}/?name=x.svg", {"Cookie": cookie})
    assert status == 200 and data.startswith(b"<svg")
    assert headers["content-security-policy"] == "sandbox"
    assert headers["content-disposition"].startswith("attachment;")
    assert headers["x-content-type-options"] == "nosniff"


def _send_partial(site, url, length, first):
    sock = site.raw_socket()
    sock.sendall((f"PATCH {url} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/offset+octet-stream\r\n"
                  f"Content-Length: {length}\r\nConnection: close\r\n\r\n").encode() + first)
    return sock


def _finish(sock, rest) -> bytes:
    if rest:
        sock.sendall(rest)
    chunks = []
    while data := sock.recv(65536):
        chunks.append(data)
    sock.close()
    return b"".join(chunks)


def test_uploads_stream_to_the_app_other_paths_are_buffered(site):
    length = 4 * 1024 * 1024
    first, rest = b"x" * 65536, b"y" * (length - 65536)

    PROBE_STARTED.clear()
    sock = _send_partial(site, "/api/v1/uploads/probe", length, first)
    assert PROBE_STARTED.wait(10), "nginx held back the tus upload instead of streaming it to the app"
    answer = _finish(sock, rest)
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(str(length).encode())

    PROBE_STARTED.clear()
    sock = _send_partial(site, "/forms/probe", length, first)
    assert not PROBE_STARTED.wait(1.5), "ordinary requests should be buffered by nginx before reaching the app"
    answer = _finish(sock, rest)
    assert PROBE_STARTED.is_set()
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(str(length).encode())


def test_body_size_limits(site):
    # Above RESLIB_MAX_UPLOAD_BYTES on the tus path, above 64m elsewhere: refused by nginx before any byte is sent.
    for url, length in (("/api/v1/uploads/probe", MAX_UPLOAD + 1), ("/forms/probe", 64 * 1024 * 1024 + 1)):
        PROBE_STARTED.clear()
        answer = _finish(_send_partial(site, url, length, b""), b"")
        assert answer.startswith(b"HTTP/1.1 413"), (url, answer[:80])
        assert not PROBE_STARTED.is_set()
    # Exactly RESLIB_MAX_UPLOAD_BYTES passes the check on the tus path (nginx then waits for the body).
    sock = _send_partial(site, "/api/v1/uploads/probe", MAX_UPLOAD, b"z" * 1024)
    sock.settimeout(1.0)
    with pytest.raises(TimeoutError):
        sock.recv(1)
    sock.close()


def test_static_files_and_https_redirect(site):
    status, headers, data, _ = site.request("GET", "/static/css/site.0123456789ab.css")
    assert (status, data) == (200, b"body{color:#123}")
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["content-type"].startswith("text/css")
    status, headers, _, _ = site.request("GET", "/static/css/site.css")
    assert (status, headers["cache-control"]) == (200, "public, max-age=3600")
    status, _, _, _ = site.request("GET", "/static/../media/x")
    assert status in (400, 404)

    conn = http.client.HTTPConnection("127.0.0.1", site.http_port, timeout=10)
    conn.request("GET", "/libraries/?q=1", headers={"Host": HOST})
    response = conn.getresponse()
    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/libraries/?q=1"
    conn.close()
