"""Web pages of resources. Mounted at the site root: the paths carry their full prefixes."""

from django.urls import path

from . import views

app_name = "resources"
urlpatterns = [
    path("libraries/<int:library_id>/resources/", views.resource_list, name="list"),
    path("libraries/<int:library_id>/resources/new/", views.resource_create, name="create"),
    path("libraries/<int:library_id>/resources/import/", views.import_page, name="import"),
    path("libraries/<int:library_id>/resources/import/template.xlsx", views.import_template, name="import_template"),
    path("libraries/<int:library_id>/resources/import/report.xlsx", views.import_report, name="import_report"),
    path("libraries/<int:library_id>/knowledge-points/", views.knowledge_points, name="knowledge_points"),
    path("libraries/<int:library_id>/knowledge-points/<int:point_id>/remove/", views.knowledge_point_remove,
         name="knowledge_point_remove"),
    path("resources/<int:pk>/", views.resource_detail, name="detail"),
    path("resources/<int:pk>/edit/", views.resource_edit, name="edit"),
    path("resources/<int:pk>/files/", views.upload_file, name="upload"),
    path("resources/<int:pk>/files/attach-upload/", views.attach_upload, name="attach_upload"),
    path("resources/<int:pk>/files/<int:file_id>/remove/", views.remove_file, name="remove_file"),
    path("resources/<int:pk>/files/<int:file_id>/download", views.download_file, name="download"),
    path("resources/<int:pk>/files/<int:file_id>/stream", views.stream_file, name="stream"),
    path("resources/<int:pk>/files/<int:file_id>/derived/<slug:kind>", views.derived_file, name="derived"),
    path("resources/<int:pk>/files/<int:file_id>/subtitles.vtt", views.subtitle_file, name="subtitles"),
    path("resources/<int:pk>/versions/new/", views.new_version, name="new_version"),
    path("resources/<int:pk>/downloads/", views.set_downloads, name="downloads"),
]
