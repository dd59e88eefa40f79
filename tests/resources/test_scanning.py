"""Virus scanning through a real clamd with a custom EICAR signature database (scanning.py)."""

import socket
import threading

import pytest

from reslib.resources import scanning
from reslib.resources.models import Blob

from .. import factories
from . import media


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_eicar_is_infected_and_clean_file_is_clean(clamd_server, tmp_path, settings, transport):
    settings.RESLIB_CLAMD_URL = clamd_server[transport]
    assert scanning.scan_path(media.eicar(tmp_path)) == (Blob.ScanStatus.INFECTED, clamd_server["signature"])
    assert scanning.scan_path(media.pdf(tmp_path)) == (Blob.ScanStatus.CLEAN, "")


def test_large_file_is_streamed_in_chunks(clamd_server, tmp_path, settings):
    settings.RESLIB_CLAMD_URL = clamd_server["unix"]
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x00" * (scanning.CHUNK_BYTES * 5 + 17))
    assert scanning.scan_path(big) == ("clean", "")
    client = scanning.ClamdClient(clamd_server["tcp"])
    assert client.ping() and "ClamAV" in client.version()


def test_file_over_clamd_stream_limit_is_an_error(clamd_server, tmp_path, settings):
    settings.RESLIB_CLAMD_URL = clamd_server["unix"]  # the test server allows 1 MiB per stream
    huge = tmp_path / "huge.bin"
    huge.write_bytes(b"\x01" * (3 * 1024 * 1024))
    status, detail = scanning.scan_path(huge)
    assert status == "error" and "size limit" in detail


def test_upload_path_records_the_scan(clamd_server, settings, db):
    settings.RESLIB_CLAMD_URL = clamd_server["unix"]
    blob = factories.blob(media.EICAR, name="eicar.txt")
    assert (blob.scan_status, blob.scan_detail) == ("infected", clamd_server["signature"])


def test_no_clamd_configured_means_not_scanned(tmp_path, settings):
    settings.RESLIB_CLAMD_URL = ""
    assert scanning.scan_path(media.eicar(tmp_path)) == ("not_scanned", "")


def test_clamd_down_is_an_error_with_a_clear_detail(tmp_path, settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    settings.RESLIB_CLAMD_URL = f"tcp://127.0.0.1:{port}"
    status, detail = scanning.scan_path(media.eicar(tmp_path))
    assert status == "error"
    assert detail.startswith(f"clamd at tcp://127.0.0.1:{port} unreachable") and "refused" in detail.lower()
    settings.RESLIB_CLAMD_URL = f"unix://{tmp_path}/missing.sock"
    assert scanning.scan_path(media.eicar(tmp_path))[0] == "error"


def test_bad_address_and_silent_server(tmp_path, settings):
    settings.RESLIB_CLAMD_URL = "http://clamd:3310"
    status, detail = scanning.scan_path(media.eicar(tmp_path))
    assert status == "error" and "tcp://" in detail
    # A server that accepts but never answers: the timeout turns into an error, not a hang.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    held = []
    thread = threading.Thread(target=lambda: held.append(server.accept()), daemon=True)
    thread.start()
    try:
        status, detail = scanning.scan_path(media.eicar(tmp_path), url=f"tcp://127.0.0.1:{server.getsockname()[1]}",
                                            timeout=0.5)
        assert status == "error" and "did not answer in time" in detail
    finally:
        server.close()
        for conn, _addr in held:
            conn.close()


@pytest.mark.parametrize("reply,expected", [
    ("stream: OK", ("clean", "")),
    ("stream: Win.Test.EICAR_HDB-1 FOUND", ("infected", "Win.Test.EICAR_HDB-1")),
    ("INSTREAM size limit exceeded. ERROR", ("error", "clamd: INSTREAM size limit exceeded. ERROR")),
    ("stream: Can't allocate memory ERROR", ("error", "clamd: Can't allocate memory ERROR")),
    ("", ("error", "clamd closed the connection without an answer")),
    ("UNKNOWN COMMAND", ("error", "clamd: unexpected answer 'UNKNOWN COMMAND'")),
])
def test_reply_parsing(reply, expected):
    assert scanning.parse_reply(reply) == expected
