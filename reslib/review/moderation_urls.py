"""The moderation console and the library's withdrawal page, mounted at /moderation/."""

from django.urls import path

from . import moderation_views as views

app_name = "moderation"
urlpatterns = [
    path("", views.console, name="console"),
    path("resources/<int:pk>/", views.resource_action, name="resource"),
    path("resources/<int:pk>/withdrawal/", views.withdrawal, name="withdrawal"),
    path("emergency/", views.emergency, name="emergency"),
    path("words/", views.words, name="words"),
    path("words/<int:word_id>/active/", views.word_toggle, name="word_toggle"),
    path("negative-list/", views.negative_list, name="negative_list"),
    path("negative-list/<int:entry_id>/active/", views.negative_toggle, name="negative_toggle"),
]
