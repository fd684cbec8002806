"""The case pages' addresses (included from web/urls.py, in the `web` namespace). Ids only in
paths, never personal data; every write is a POST to an address of its own."""

from django.urls import path

from web import webcases_views as views

urlpatterns = [
    path("cases/", views.case_list, name="cases"),
    path("cases/<uuid:case_id>/", views.case_detail, name="case"),
    path("cases/<uuid:case_id>/transition/", views.case_transition, name="case-transition"),
    path("cases/<uuid:case_id>/household/", views.member_add, name="case-member-add"),
    path(
        "cases/<uuid:case_id>/household/<uuid:person_id>/remove/",
        views.member_remove,
        name="case-member-remove",
    ),
    path(
        "cases/<uuid:case_id>/household/<uuid:person_id>/erase/",
        views.member_erase,
        name="case-member-erase",
    ),
    path("cases/<uuid:case_id>/needs/", views.need_add, name="case-need-add"),
    path("cases/<uuid:case_id>/needs/<uuid:need_id>/", views.need_update, name="case-need-update"),
    path("cases/<uuid:case_id>/notes/", views.note_add, name="case-note-add"),
    path("cases/<uuid:case_id>/assign/", views.case_assign, name="case-assign"),
    path("cases/<uuid:case_id>/erase/", views.case_erase, name="case-erase"),
    path("intake/", views.intake, name="intake"),
    path("people/<uuid:person_id>/", views.person_detail, name="person"),
]
