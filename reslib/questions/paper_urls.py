"""Web pages of papers (试卷), included under the "questions" namespace at the site root."""

from django.urls import path

from . import paper_views as views

urlpatterns = [
    path("libraries/<int:library_id>/papers/", views.paper_list, name="paper_list"),
    path("libraries/<int:library_id>/papers/new/", views.paper_create, name="paper_create"),
    path("papers/<int:pk>/", views.paper_detail, name="paper_detail"),
    path("papers/<int:pk>/edit/", views.paper_edit, name="paper_edit"),
    path("papers/<int:pk>/delete/", views.paper_delete, name="paper_delete"),
    path("papers/<int:pk>/open/", views.paper_transition, {"action": "open"}, name="paper_open"),
    path("papers/<int:pk>/close/", views.paper_transition, {"action": "close"}, name="paper_close"),
    path("papers/<int:pk>/compose/", views.paper_compose, name="paper_compose"),
    path("papers/<int:pk>/compose/rules/", views.paper_compose_rules, name="paper_compose_rules"),
    path("papers/<int:pk>/items/add/", views.item_add, name="paper_item_add"),
    path("papers/<int:pk>/items/<int:item_id>/<slug:action>/", views.item_change, name="paper_item_change"),
    path("papers/<int:pk>/start/", views.attempt_start, name="paper_start"),
    path("papers/<int:pk>/grading/", views.grading, name="paper_grading"),
    path("papers/<int:pk>/results/", views.results_page, name="paper_results"),
    path("papers/<int:pk>/results.xlsx", views.results_xlsx, name="paper_results_xlsx"),
    path("attempts/<int:pk>/", views.attempt_page, name="attempt"),
    path("attempts/<int:pk>/save/", views.attempt_save, name="attempt_save"),
]
