"""tus upload benchmark (not a test): throughput against `dd` on the same disk, and the server's RSS growth.

    .venv/bin/python bench/upload_bench.py                 # 1 GiB, 32 MiB chunks, under the system temp dir
    .venv/bin/python bench/upload_bench.py --size 256M --chunk 8M --dir /srv/scratch

Steps, all in one run so the figures are comparable:
1. writes the source file (random bytes) and notes its sha256;
2. baseline: `dd if=/dev/zero of=<dir>/dd.bin bs=8M count=… conv=fdatasync` on the same file system;
3. starts a real granian WSGI server (one worker) with a fresh RESLIB_VAR_DIR under <dir>, an API token from a
   service call, and warms it up with one small upload;
4. uploads the file with raw http.client PATCHes of --chunk bytes (each streamed from disk, never read whole),
   sampling VmRSS of the server processes every 20 ms and reading VmHWM at the end;
5. checks that the stored Blob's sha256 matches, prints a table, removes everything it made.

Targets from the issue: upload >= 70 % of dd, server RSS growth < 50 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
MiB = 1024 * 1024


def parse_size(text: str) -> int:
    text = text.strip().upper().rstrip("B").rstrip("I")
    factor = 1
    for suffix, value in (("K", 1024), ("M", MiB), ("G", 1024 * MiB)):
        if text.endswith(suffix):
            factor, text = value, text[:-1]
    return int(float(text) * factor)


def make_source(path: Path, size: int) -> str:
    """Random content (8 MiB of os.urandom, varied per block so nothing deduplicates); returns its sha256."""
    hasher = hashlib.sha256()
    block = bytearray(os.urandom(8 * MiB))
    written = 0
    with open(path, "wb") as out:
        n = 0
        while written < size:
            block[:8] = n.to_bytes(8, "little")
            piece = bytes(block[: min(len(block), size - written)])
            out.write(piece)
            hasher.update(piece)
            written += len(piece)
            n += 1
    return hasher.hexdigest()


def dd_baseline(directory: Path, size: int) -> float:
    target = directory / "dd.bin"
    count = max(1, size // (8 * MiB))
    started = time.perf_counter()
    subprocess.run(["dd", "if=/dev/zero", f"of={target}", "bs=8M", f"count={count}", "conv=fdatasync"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    target.unlink()
    return count * 8 * MiB / elapsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reslib(env, *args, capture=False) -> str:
    result = subprocess.run([str(VENV_BIN / "reslib"), *args], env=env, check=True, cwd=ROOT,
                            capture_output=capture, text=True)
    return result.stdout if capture else ""


def process_tree(pid: int) -> list[int]:
    pids = [pid]
    for p in pids:
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                pids.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                pass
    return list(dict.fromkeys(pids))


def proc_status(pid: int, field: str) -> int:
    """A /proc/<pid>/status memory field in bytes (0 if the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class RssSampler(threading.Thread):
    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids = pids
        self.peak = {pid: proc_status(pid, "VmRSS") for pid in pids}
        self._halt = threading.Event()

    def run(self):
        while not self._halt.wait(0.02):
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], proc_status(pid, "VmRSS"))

    def stop(self):
        self._halt.set()
        self.join()


def tus_upload(base_url: str, token: str, path: Path, chunk: int, name: str) -> str:
    """Create + PATCH with http.client, each chunk streamed from the file in 1 MiB reads. Returns the upload URL."""
    parsed = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=600)
    size = path.stat().st_size
    import base64

    headers = {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {token}", "Upload-Length": str(size),
               "Upload-Metadata": "filename " + base64.b64encode(name.encode()).decode(), "Content-Length": "0"}
    conn.request("POST", parsed.path, headers=headers)
    response = conn.getresponse()
    response.read()
    if response.status != 201:
        raise RuntimeError(f"create failed: {response.status}")
    location = urllib.parse.urlsplit(response.getheader("Location")).path
    offset = 0
    with open(path, "rb") as fh:
        while offset < size:
            length = min(chunk, size - offset)
            conn.putrequest("PATCH", location)
            for key, value in {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {token}",
                               "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
                               "Content-Length": str(length)}.items():
                conn.putheader(key, value)
            conn.endheaders()
            left = length
            while left:
                data = fh.read(min(MiB, left))
                conn.send(data)
                left -= len(data)
            response = conn.getresponse()
            response.read()
            if response.status != 204:
                raise RuntimeError(f"PATCH at {offset} failed: {response.status}")
            offset = int(response.getheader("Upload-Offset"))
    conn.close()
    return location


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1G", help="file size, e.g. 1G, 256M (default 1G)")
    parser.add_argument("--chunk", default="32M", help="PATCH size, 8M–64M (default 32M)")
    parser.add_argument("--dir", default=None, help="work directory (default: a temp dir); dd and the server's "
                                                    "files live here, so it decides which disk is measured")
    args = parser.parse_args()
    size, chunk = parse_size(args.size), parse_size(args.chunk)

    work = Path(tempfile.mkdtemp(prefix="reslib-upload-bench-", dir=args.dir))
    server = None
    try:
        source = work / "source.bin"
        print(f"Writing a {size / MiB:.0f} MiB source file in {work} …", flush=True)
        expected = make_source(source, size)

        print("Baseline: dd conv=fdatasync …", flush=True)
        dd_rate = dd_baseline(work, size)

        env = {**os.environ, "RESLIB_VAR_DIR": str(work / "var"), "RESLIB_DEBUG": "1",
               "RESLIB_MAX_UPLOAD_BYTES": str(max(size, 4 * 1024 * MiB)), "RESLIB_LOG_LEVEL": "WARNING"}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        (work / "var").mkdir()
        reslib(env, "migrate", "--noinput", "-v", "0")
        # Only the builders of a library may start uploads: the bench user is one.
        token = reslib(env, "shell", "-c", (
            "import datetime\n"
            "from reslib.accounts.models import User\n"
            "from reslib.accounts.services import create_api_token\n"
            "from reslib.libraries.models import Library, TeamMember\n"
            "from reslib.orgs.models import Major\n"
            "u = User.objects.create_user(username='bench', password='bench-password-123456')\n"
            "lib = Library.objects.create(name='bench', level='provincial', province_id='320000', status='building',\n"
            "    core_major=Major.objects.get(code='510201'), build_start=datetime.date(2026, 1, 1),\n"
            "    build_end=datetime.date(2027, 1, 1), created_by=u)\n"
            "TeamMember.objects.create(library=lib, user=u, role='builder')\n"
            "print(create_api_token(u, name='bench')[1])"), capture=True).strip().splitlines()[-1]

        port = free_port()
        server = subprocess.Popen(
            [str(VENV_BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1", "--log-level", "warning", "reslib.wsgi:application"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}/api/v1/uploads/"
        for _ in range(200):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("OPTIONS", "/api/v1/uploads/")
                if conn.getresponse().status == 204:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("granian did not answer")

        # Warm-up: imports (inspection, PyAV…), database connection, first blob.
        warm = work / "warm.bin"
        warm.write_bytes(os.urandom(3 * MiB))
        tus_upload(base_url, token, warm, MiB, "warm.bin")
        time.sleep(0.3)

        pids = process_tree(server.pid)
        rss_before = {pid: proc_status(pid, "VmRSS") for pid in pids}
        hwm_before = {pid: proc_status(pid, "VmHWM") for pid in pids}
        sampler = RssSampler(pids)
        sampler.start()
        started = time.perf_counter()
        location = tus_upload(base_url, token, source, chunk, "lecture.mp4")
        elapsed = time.perf_counter() - started
        sampler.stop()
        hwm_after = {pid: proc_status(pid, "VmHWM") for pid in pids}

        stored = reslib(env, "shell", "-c", (
            "from reslib.resources.models import Upload\n"
            f"u = Upload.objects.get(pk='{location.rstrip('/').rsplit('/', 1)[1]}')\n"
            "print(u.blob.sha256)"), capture=True).strip().splitlines()[-1]
        if stored != expected:
            raise RuntimeError(f"sha256 mismatch: stored {stored}, expected {expected}")

        tus_rate = size / elapsed
        growth = max(max(sampler.peak[p], hwm_after[p]) - rss_before[p] for p in pids)
        sampled_growth = max(sampler.peak[p] - rss_before[p] for p in pids)
        print()
        print(f"tus upload of {size / MiB:.0f} MiB in {chunk / MiB:.0f} MiB PATCHes, granian 1 worker, "
              f"{work} ({os.uname().sysname})")
        print(f"{'measure':<38}{'value':>16}")
        print("-" * 54)
        print(f"{'dd bs=8M conv=fdatasync':<38}{dd_rate / MiB:>12.1f} MiB/s")
        print(f"{'tus upload (create → last 204)':<38}{tus_rate / MiB:>12.1f} MiB/s")
        print(f"{'ratio tus / dd':<38}{tus_rate / dd_rate * 100:>14.1f} %   (target >= 70 %)")
        for pid in pids:
            role = "granian main" if pid == server.pid else "granian worker"
            print(f"{role + ' RSS before (pid ' + str(pid) + ')':<38}{rss_before[pid] / MiB:>12.1f} MiB")
            print(f"{'  peak RSS during upload':<38}{sampler.peak[pid] / MiB:>12.1f} MiB")
            print(f"{'  VmHWM before → after':<38}{hwm_before[pid] / MiB:>6.1f} → {hwm_after[pid] / MiB:.1f} MiB")
        print(f"{'server RSS growth (max over processes)':<38}{growth / MiB:>12.1f} MiB   (target < 50 MB)")
        print(f"{'  of which seen by 20 ms sampling':<38}{sampled_growth / MiB:>12.1f} MiB")
        print(f"{'sha256 verified':<38}{'yes':>16}")
        return 0
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
