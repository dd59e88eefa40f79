"""Catalogue pages. Mounted at the site root (before core's urls): the paths carry their full prefixes.

The home page keeps the un-namespaced name "home" (LOGIN_REDIRECT_URL and the layout link to it).
"""

from django.urls import include, path

from . import views

catalogue_patterns = (
    [
        path("search/", views.search, name="search"),
        path("search/suggest/", views.suggest, name="suggest"),
        path("libraries/<int:library_id>/catalogue/", views.library_catalogue, name="library"),
        path("majors/<str:code>/", views.major_detail, name="major"),
        path("orgs/<int:pk>/resources/", views.organization_resources, name="organization"),
        path("orgs/<int:pk>/resources/section/", views.organization_resources_fragment, name="organization_section"),
    ],
    "catalogue",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("", include(catalogue_patterns)),
]
