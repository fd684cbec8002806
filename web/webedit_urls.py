"""The edit pages' addresses (included from web/urls.py, in the `web` namespace). Ids only in
paths, never personal data. The names start with their area's (`case-`, `person-`, `needs`)
so web.context_processors.AREA_STYLESHEETS gives them the case pages' stylesheet."""

from django.urls import path

from web import webedit_views as views

urlpatterns = [
    path("cases/<uuid:case_id>/edit/", views.case_edit, name="case-edit"),
    path("people/<uuid:person_id>/edit/", views.person_edit, name="person-edit"),
    path("needs/", views.needs, name="needs"),
]
