"""URLs. Everything under /api/v1/ requires a bearer token except login, schema and docs; the
web interface (web/urls.py) is at `/`, signed in by session."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from common import health

# The API description is public by design (design.md): it documents the contract, not data.
schema_view = SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[])
docs_view = SpectacularSwaggerView.as_view(
    url_name="schema", authentication_classes=[], permission_classes=[]
)

api_v1 = [
    # Before accounts: `staff/directory/` (the cases app's) would otherwise be read as the
    # admins' `staff/{id}/` with the id "directory".
    path("", include("cases.urls")),
    path("", include("accounts.urls")),
    path("", include("audit.urls")),
    path("", include("people.urls")),
    path("", include("funds.urls")),
    path("schema/", schema_view, name="schema"),
    path("docs/", docs_view, name="docs"),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", include(api_v1)),
    path("", include("web.urls")),
]

# HTML for pages, the API's JSON shape for /api/ and the probes (web/errors.py).
handler400 = "web.errors.handler400"
handler403 = "web.errors.handler403"
handler404 = "web.errors.handler404"
handler500 = "web.errors.handler500"
