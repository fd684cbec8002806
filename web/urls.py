"""The web interface's addresses, mounted at `/`. Ids only in paths; never personal data."""

from django.urls import include, path
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.sign_in, name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("exit/", views.quick_exit, name="exit"),
    path("recipe/", views.neutral, name="neutral"),
    path("favicon.ico", views.no_icon, name="no-icon"),
    # Django's own switch; POST only (with CSRF), so a link cannot change anyone's language.
    path("language/", require_POST(set_language), name="language"),
    path("", include("web.webcases_urls")),
    path("", include("web.webmoney_urls")),
    path("", include("web.weboversight_urls")),  # /reports/ and /audit/
    path("", include("web.webstaff_urls")),
    path("", include("web.webedit_urls")),  # /cases/{id}/edit/, /people/{id}/edit/, /needs/
]
