"""Settings + URLconf for bench/download_bench.py (bench only, never deployed).

ResLib's settings with one extra URL, /files/<sha256>/, that does what a real download view does — look the blob up
in the database, check a permission, call delivery.serve_blob — so the benchmark measures the real delivery path
under granian without depending on the resource pages. Run as DJANGO_SETTINGS_MODULE=download_app (bench/ on
PYTHONPATH) with `granian --interface wsgi --factory django.core.wsgi:get_wsgi_application`.
"""

import os

from reslib.settings import *  # noqa: F403

ROOT_URLCONF = "download_app"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DATABASES["default"]["CONN_MAX_AGE"] = 60  # as in production (RESLIB_DEBUG=0); the laptop default reconnects
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}


def _download(request, sha256):
    from django.http import Http404

    from reslib.resources import delivery
    from reslib.resources.models import Blob

    block = int(os.environ.get("BENCH_BLOCK_SIZE", "0"))
    if block:
        delivery.BLOCK_SIZE = delivery.BlobFileResponse.block_size = block
    blob = Blob.objects.filter(sha256=sha256).first()
    if blob is None or request.GET.get("key") != "bench":  # stand-in for policies.can_download
        raise Http404
    return delivery.serve_blob(request, blob, filename="基准测试.bin", as_attachment=True)


def _urls():
    from django.urls import path

    return [path("files/<str:sha256>/", _download)]


urlpatterns = _urls()
