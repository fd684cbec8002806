from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts import api

router = SimpleRouter()
router.register("staff", api.StaffViewSet, basename="staff")

urlpatterns = [
    path("auth/login/", api.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", api.LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all/", api.LogoutAllView.as_view(), name="auth-logout-all"),
    path("auth/me/", api.MeView.as_view(), name="auth-me"),
    *router.urls,
]
