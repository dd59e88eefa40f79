"""The question bank's pages (included under the namespace "questions" by urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("libraries/<int:library_id>/questions/", views.bank, name="bank"),
    path("libraries/<int:library_id>/questions/new/", views.create, name="create"),
    path("libraries/<int:library_id>/questions/import/", views.import_page, name="import"),
    path("libraries/<int:library_id>/questions/import/template.xlsx", views.template, name="template"),
    path("libraries/<int:library_id>/questions/export/", views.export, name="export"),
    path("questions/<int:pk>/", views.detail, name="detail"),
    path("questions/<int:pk>/edit/", views.edit, name="edit"),
    path("questions/<int:pk>/submit/", views.submit, name="submit"),
]
