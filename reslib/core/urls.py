from django.urls import include, path

from . import views

# The home page (un-namespaced name "home") is the catalogue app's; core's pages live under "core:".
core_patterns = (
    [
        path("audit/", views.audit_log, name="audit"),
    ],
    "core",
)

urlpatterns = [
    path("", include(core_patterns)),
]
