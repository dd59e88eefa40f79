"""Download throughput: ResLib's serve_blob under granian against nginx serving the same file from disk.

    .venv/bin/python bench/download_bench.py [--size-mib 1024] [--rounds 3] [--ranges 64] [--range-mib 16]

Makes a file of random bytes (1 GiB by default) in a scratch directory, registers it as a Blob in a scratch SQLite
database, then downloads it over loopback, with the same client, from:
  nginx       nginx's static file serving (sendfile) of the file — the baseline;
  reslib      granian (1 worker) + Django + delivery.serve_blob, standalone (no nginx);
  x-accel     nginx -> granian: the app checks and answers X-Accel-Redirect, nginx sends the bytes (production set-up).
Each mode is measured for whole-file downloads and for N ranged requests of M MiB at random offsets (Range 206, one
keep-alive connection). The table shows MiB/s (median of the rounds) and the ratio to nginx, plus the peak RSS of the
granian process. The target in issue 3 is reslib >= 80 % of nginx.
Needs nginx (Debian: apt-get install nginx-light). Everything listens on 127.0.0.1 only and stops by itself.
"""

import argparse
import hashlib
import http.client
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited while starting (status {proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not start on port {port}")


def make_file(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    block = 8 * 1024 * 1024
    with open(path, "wb") as fh:
        left = size
        while left:
            data = os.urandom(min(block, left))
            fh.write(data)
            digest.update(data)
            left -= len(data)
    return digest.hexdigest()


def download(port: int, url: str, headers=None, expect=200) -> int:
    """GET url, read the body into a reused buffer; bytes received."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        return _get(conn, url, headers or {}, expect)
    finally:
        conn.close()


_BUF = bytearray(4 * 1024 * 1024)


def _get(conn, url, headers, expect) -> int:
    conn.request("GET", url, headers=headers)
    response = conn.getresponse()
    if response.status != expect:
        raise SystemExit(f"GET {url} {headers}: HTTP {response.status} (expected {expect}) {response.read(300)!r}")
    view = memoryview(_BUF)
    total = 0
    while n := response.readinto(view):
        total += n
    return total


def ranged(port: int, url: str, offsets, length: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    total = 0
    try:
        for start in offsets:
            got = _get(conn, url, {"Range": f"bytes={start}-{start + length - 1}"}, 206)
            if got != length:
                raise SystemExit(f"range at {start}: {got} bytes instead of {length}")
            total += got
    finally:
        conn.close()
    return total


def peak_rss_kib(pid: int) -> int:
    """VmHWM of pid and its children (granian's worker is a child process)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total = max(total, int(line.split()[1]))
        except OSError:
            pass
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ranges", type=int, default=64)
    parser.add_argument("--range-mib", type=int, default=16)
    parser.add_argument("--block-size", type=int, default=0, help="override delivery.BLOCK_SIZE (bytes)")
    parser.add_argument("--dir", default=None, help="scratch directory (default: a new one under /tmp)")
    args = parser.parse_args()

    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not nginx:
        raise SystemExit("nginx is not installed (Debian: apt-get install nginx-light)")
    size = args.size_mib * 1024 * 1024
    scratch = Path(args.dir or tempfile.mkdtemp(prefix="reslib-download-bench-"))
    var = scratch / "var"
    media = var / "media"
    (media / "blobs").mkdir(parents=True, exist_ok=True)
    (var / "static").mkdir(exist_ok=True)

    print(f"Writing a {args.size_mib} MiB file of random bytes …", flush=True)
    tmp_file = scratch / "payload.bin"
    sha = make_file(tmp_file, size)
    storage_name = f"blobs/{sha[:2]}/{sha[2:4]}/{sha}"
    (media / storage_name).parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp_file, media / storage_name)

    env = {**os.environ, "RESLIB_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "download_app",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)]), "RESLIB_X_ACCEL_PREFIX": ""}
    if args.block_size:
        env["BENCH_BLOCK_SIZE"] = str(args.block_size)
    subprocess.run([sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"], env=env, check=True)
    subprocess.run([sys.executable, "-m", "django", "shell", "-c",
                    "from reslib.resources.models import Blob;"
                    f"Blob.objects.get_or_create(sha256='{sha}', defaults=dict(size={size}, "
                    f"storage_name='{storage_name}', mime_type='application/octet-stream', kind='other'))"],
                   env=env, check=True)

    procs = []
    try:
        app_port, xaccel_app_port, nginx_port = free_port(), free_port(), free_port()
        granian = [str(VENV_BIN / "granian"), "--interface", "wsgi", "--workers", "1", "--host", "127.0.0.1",
                   "--log-level", "warning", "--no-ws", "--factory", "django.core.wsgi:get_wsgi_application"]
        app = subprocess.Popen(granian + ["--port", str(app_port)], env=env, cwd=ROOT)
        procs.append(app)
        xaccel_app = subprocess.Popen(granian + ["--port", str(xaccel_app_port)],
                                      env={**env, "RESLIB_X_ACCEL_PREFIX": "/_protected"}, cwd=ROOT)
        procs.append(xaccel_app)

        prefix = scratch / "nginx"
        (prefix / "tmp").mkdir(parents=True, exist_ok=True)
        user = "user root;" if os.geteuid() == 0 else ""
        # The /_protected/ location mirrors deploy/nginx/reslib.conf (sendfile, 2m chunks, aio threads).
        (prefix / "nginx.conf").write_text(f"""
{user}
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    default_type application/octet-stream;
    client_body_temp_path {prefix}/tmp; proxy_temp_path {prefix}/tmp; fastcgi_temp_path {prefix}/tmp;
    uwsgi_temp_path {prefix}/tmp; scgi_temp_path {prefix}/tmp;
    sendfile on;
    tcp_nopush on;
    upstream app {{ server 127.0.0.1:{xaccel_app_port}; keepalive 8; }}
    server {{
        listen 127.0.0.1:{nginx_port};
        location /direct/ {{ alias {media}/; sendfile_max_chunk 2m; aio threads; }}
        location /_protected/ {{ internal; alias {media}/; sendfile_max_chunk 2m; aio threads; }}
        location /files/ {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }}
    }}
}}
""")
        ngx = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf")])
        procs.append(ngx)
        for port, proc, what in ((app_port, app, "granian"), (xaccel_app_port, xaccel_app, "granian (x-accel)"),
                                 (nginx_port, ngx, "nginx")):
            wait_port(port, proc, what)

        modes = {
            "nginx": (nginx_port, f"/direct/{storage_name}"),
            "reslib": (app_port, f"/files/{sha}/?key=bench"),
            "x-accel": (nginx_port, f"/files/{sha}/?key=bench"),
        }
        # Check the bytes once per mode (sha256 over the whole file) and warm the page cache.
        for name, (port, url) in modes.items():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("GET", url)
            response = conn.getresponse()
            digest = hashlib.sha256()
            while chunk := response.read(4 * 1024 * 1024):
                digest.update(chunk)
            conn.close()
            if response.status != 200 or digest.hexdigest() != sha:
                raise SystemExit(f"{name}: wrong answer (HTTP {response.status})")

        rng = random.Random(20260)
        range_len = args.range_mib * 1024 * 1024
        offsets = [rng.randrange(0, size - range_len) for _ in range(args.ranges)]
        results: dict[str, dict[str, float]] = {m: {} for m in modes}
        rss_before = peak_rss_kib(app.pid)
        for _round in range(args.rounds):
            for name, (port, url) in modes.items():
                t0 = time.perf_counter()
                got = download(port, url)
                results[name].setdefault("full", []).append(got / (time.perf_counter() - t0) / 2**20)
                t0 = time.perf_counter()
                got = ranged(port, url, offsets, range_len)
                results[name].setdefault("ranges", []).append(got / (time.perf_counter() - t0) / 2**20)
        rss_after = peak_rss_kib(app.pid)

        base = {k: statistics.median(v) for k, v in results["nginx"].items()}
        print()
        print(f"file {args.size_mib} MiB, {args.rounds} rounds (median), ranged: {args.ranges} x {args.range_mib} MiB,"
              f" block size {args.block_size or 'default'}; loopback, 1 granian worker, 1 nginx worker")
        print()
        print("| mode | whole file MiB/s | vs nginx | ranges MiB/s | vs nginx |")
        print("|---|---:|---:|---:|---:|")
        for name in modes:
            full = statistics.median(results[name]["full"])
            rng_ = statistics.median(results[name]["ranges"])
            print(f"| {name} | {full:,.0f} | {full / base['full']:.0%} | {rng_:,.0f} | {rng_ / base['ranges']:.0%} |")
        print()
        print(f"granian (standalone) peak RSS: {rss_before / 1024:.0f} MiB after warm-up, {rss_after / 1024:.0f} MiB "
              f"after all downloads (growth {(rss_after - rss_before) / 1024:.1f} MiB)")
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if not args.dir:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
