from django.urls import path
from rest_framework.routers import SimpleRouter

from audit import api

router = SimpleRouter()
router.register("audit/entries", api.EntryViewSet, basename="audit-entry")
router.register("audit/checkpoints", api.CheckpointViewSet, basename="audit-checkpoint")

urlpatterns = [
    path("audit/verify/", api.VerifyView.as_view(), name="audit-verify"),
    *router.urls,
]
