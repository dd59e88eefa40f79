"""The question bank's pages."""

from django.urls import include, path

app_name = "questions"

urlpatterns = [
    path("", include("reslib.questions.bank_urls")),
]
