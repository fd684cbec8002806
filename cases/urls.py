from django.urls import path
from rest_framework.routers import SimpleRouter

from cases import api, items_api

router = SimpleRouter()
router.register("cases", api.CaseViewSet, basename="case")
router.register("needs", items_api.NeedQueueViewSet, basename="need-queue")
router.register("staff/directory", api.StaffDirectoryViewSet, basename="staff-directory")

needs = items_api.NeedViewSet
notes = items_api.NoteViewSet

urlpatterns = [
    *router.urls,
    path(
        "cases/<uuid:case_pk>/needs/",
        needs.as_view({"get": "list", "post": "create"}),
        name="case-need-list",
    ),
    path(
        "cases/<uuid:case_pk>/needs/<uuid:pk>/",
        needs.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="case-need-detail",
    ),
    path(
        "cases/<uuid:case_pk>/notes/",
        notes.as_view({"get": "list", "post": "create"}),
        name="case-note-list",
    ),
    path(
        "cases/<uuid:case_pk>/notes/<uuid:pk>/",
        notes.as_view({"get": "retrieve"}),
        name="case-note-detail",
    ),
    path(
        "cases/<uuid:case_pk>/timeline/",
        items_api.TimelineViewSet.as_view({"get": "list"}),
        name="case-timeline",
    ),
]
