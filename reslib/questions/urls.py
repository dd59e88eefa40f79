"""The question bank's pages and the papers' pages."""

from django.urls import include, path

app_name = "questions"

urlpatterns = [
    path("", include("reslib.questions.bank_urls")),
    path("", include("reslib.questions.paper_urls")),
]
