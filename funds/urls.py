from django.urls import path
from rest_framework.routers import SimpleRouter

from funds import api, disbursements_api, rates_api, reports_api

router = SimpleRouter()
router.register("funds/sources", api.SourceViewSet, basename="funding-source")
router.register("funds/allocations", api.AllocationViewSet, basename="allocation")
router.register("funds/rates", rates_api.ReferenceRateViewSet, basename="reference-rate")
router.register(
    "funds/disbursements", disbursements_api.DisbursementViewSet, basename="disbursement"
)

urlpatterns = [
    *router.urls,
    path(
        "funds/sources/<uuid:pk>/transparency/",
        reports_api.TransparencyView.as_view(),
        name="funding-source-transparency",
    ),
    path(
        "funds/reports/summary/",
        reports_api.SummaryReportView.as_view(),
        name="funds-summary-report",
    ),
]
