"""The money pages' addresses, under `/funds/`. Ids only in paths; never personal data."""

from django.urls import path

from web import webmoney_views as views

urlpatterns = [
    path("funds/", views.inbox, name="funds"),
    path("funds/approve/", views.approve_selected, name="funds-approve-selected"),
    path("funds/disbursements/", views.disbursement_list, name="funds-disbursements"),
    path("funds/disbursements/new/", views.disbursement_new, name="funds-request"),
    path("funds/disbursements/<uuid:pk>/", views.disbursement_detail, name="funds-disbursement"),
    path("funds/disbursements/<uuid:pk>/change/", views.disbursement_change, name="funds-change"),
    path(
        "funds/disbursements/<uuid:pk>/approve/", views.disbursement_approve, name="funds-approve"
    ),
    path("funds/disbursements/<uuid:pk>/reject/", views.disbursement_reject, name="funds-reject"),
    path("funds/disbursements/<uuid:pk>/pay/", views.disbursement_pay, name="funds-pay"),
    path("funds/disbursements/<uuid:pk>/cancel/", views.disbursement_cancel, name="funds-cancel"),
    path("funds/sources/", views.sources, name="funds-sources"),
    path("funds/allocations/", views.allocations, name="funds-allocations"),
    path(
        "funds/allocations/<uuid:pk>/close/",
        views.allocation_close_view,
        name="funds-allocation-close",
    ),
    path("funds/rates/", views.rates, name="funds-rates"),
]
