from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts import api, staff_api

router = SimpleRouter()
router.register("auth/tokens", api.TokenViewSet, basename="auth-tokens")
router.register("staff/changes", staff_api.StaffChangeViewSet, basename="staff-changes")
router.register("staff", staff_api.StaffViewSet, basename="staff")

urlpatterns = [
    path("auth/login/", api.LoginView.as_view(), name="auth-login"),
    path("auth/enrol/", api.EnrolView.as_view(), name="auth-enrol"),
    path("auth/enrol/confirm/", api.EnrolConfirmView.as_view(), name="auth-enrol-confirm"),
    path("auth/logout/", api.LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all/", api.LogoutAllView.as_view(), name="auth-logout-all"),
    path("auth/me/", api.MeView.as_view(), name="auth-me"),
    path("auth/password/", api.PasswordView.as_view(), name="auth-password"),
    *router.urls,
]
