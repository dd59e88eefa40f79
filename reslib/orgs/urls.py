from django.urls import path

from . import views

app_name = "orgs"
urlpatterns = [
    path("", views.organization_list, name="list"),
    path("new/", views.organization_create, name="create"),
    path("cities/", views.city_options, name="city_options"),
    path("majors/", views.major_list, name="majors"),
    path("<int:pk>/", views.organization_detail, name="detail"),
]
