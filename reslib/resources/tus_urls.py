"""URLs of the tus endpoint; mounted at /api/v1/uploads/ (before the ninja API's catch-all)."""

from django.urls import path

from . import tus

app_name = "tus"

urlpatterns = [
    path("", tus.collection, name="collection"),
    path("<uuid:upload_id>", tus.upload, name="upload"),
]
