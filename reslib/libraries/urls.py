from django.urls import path

from . import views

app_name = "libraries"
urlpatterns = [
    path("", views.library_list, name="list"),
    path("new/", views.library_create, name="create"),
    path("workbench/", views.workbench, name="workbench"),
    path("<int:pk>/", views.library_detail, name="detail"),
    path("<int:pk>/edit/", views.library_edit, name="edit"),
    path("<int:pk>/transition/<slug:action>/", views.library_transition, name="transition"),
    path("<int:pk>/team/add/", views.team_add, name="team_add"),
    path("<int:pk>/team/<int:member_id>/remove/", views.team_remove, name="team_remove"),
]
