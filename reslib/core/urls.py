from django.urls import include, path

from . import views

# The home page keeps the un-namespaced name "home" (LOGIN_REDIRECT_URL); the rest lives under "core:".
core_patterns = (
    [
        path("audit/", views.audit_log, name="audit"),
    ],
    "core",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("", include(core_patterns)),
]
