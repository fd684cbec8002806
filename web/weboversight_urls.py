"""The oversight pages' addresses: /reports/ and /audit/. Ids only; never personal data."""

from django.urls import path

from web import weboversight_views as views

urlpatterns = [
    path("reports/", views.report, name="reports"),
    path("reports/chart.svg", views.report_chart, name="reports-chart"),
    path("reports/summary.csv", views.report_csv, name="reports-csv"),
    path("reports/sources/<uuid:pk>/", views.donor_view, name="donor-view"),
    path("audit/", views.audit_log, name="audit"),
    path("audit/entries/<str:pk>/", views.audit_entry, name="audit-entry"),
    path("audit/verify/", views.audit_verify, name="audit-verify"),
    path("audit/checkpoints/", views.audit_checkpoints, name="audit-checkpoints"),
    path("audit/checkpoints/all.json", views.audit_checkpoints_file, name="audit-checkpoints-file"),
    path(
        "audit/checkpoints/<str:pk>.json",
        views.audit_checkpoint_file,
        name="audit-checkpoint-file",
    ),
    path("audit/public-key.pem", views.audit_public_key, name="audit-public-key"),
]
