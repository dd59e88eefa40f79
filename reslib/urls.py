from django.contrib import admin
from django.urls import include, path, re_path

from reslib.core.api import api, api_not_found

from . import api_routes  # noqa: F401  (registers every app's router on the API)

# Under /api/ in the API's JSON error shape, elsewhere the site's pages (403 keeps Django's view and 403.html).
handler400 = "reslib.core.views.bad_request"
handler404 = "reslib.core.views.page_not_found"
handler500 = "reslib.core.views.server_error"

urlpatterns = [
    path("api/v1/uploads/", include("reslib.resources.tus_urls")),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<rest>.*)$", api_not_found),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("reslib.accounts.urls")),
    path("", include("reslib.catalogue.urls")),
    path("", include("reslib.core.urls")),
    path("libraries/", include("reslib.libraries.urls")),
    path("orgs/", include("reslib.orgs.urls")),
    path("", include("reslib.resources.urls")),
    path("notifications/", include("reslib.notifications.urls")),
    path("review/", include("reslib.review.urls")),
    path("moderation/", include("reslib.review.moderation_urls")),
    path("", include("reslib.questions.urls")),
]
