from django.urls import path

from . import views

app_name = "review"
urlpatterns = [
    path("", views.workbench, name="workbench"),
    path("requests/<int:pk>/", views.review_page, name="request"),
    path("requests/<int:pk>/decide/", views.decide, name="decide"),
    path("requests/<int:pk>/claim/", views.claim, name="claim"),
    path("requests/<int:pk>/release/", views.release, name="release"),
    path("requests/<int:pk>/assign/", views.assign, name="assign"),
    path("resources/<int:pk>/submit/", views.submit, name="submit"),
    path("resources/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("libraries/<int:library_id>/levels/", views.levels_settings, name="levels"),
]
