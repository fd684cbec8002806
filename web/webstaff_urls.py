"""The staff pages (admins), everyone's account pages and enrolment. Ids only in paths."""

from django.urls import path

from web import webstaff_views as views

urlpatterns = [
    path("staff/", views.staff_index, name="staff"),
    path("staff/new/", views.staff_new, name="staff-new"),
    path("staff/changes/", views.changes_index, name="staff-changes"),
    path("staff/changes/<uuid:pk>/approve/", views.change_approve, name="staff-change-approve"),
    path("staff/changes/<uuid:pk>/reject/", views.change_reject, name="staff-change-reject"),
    path("staff/<uuid:pk>/", views.staff_member, name="staff-member"),
    *(
        path(f"staff/<uuid:pk>/{name}/", views.member_action(name), name=f"staff-{name}")
        for name in views.ACTIONS
    ),
    path("account/", views.account, name="account"),
    path("account/password/", views.password, name="account-password"),
    path("account/tokens/<uuid:pk>/end/", views.token_end, name="account-token-end"),
    path("account/tokens/end-others/", views.tokens_end_others, name="account-tokens-end-others"),
    path("enrol/", views.enrol, name="enrol"),
    path("enrol/confirm/", views.enrol_confirm, name="enrol-confirm"),
]
