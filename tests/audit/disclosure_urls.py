"""Views for tests/audit/test_disclosure_layer.py: plain Django views (as the web pages are)
that show a person properly, forget the layer, or fail after disclosing."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import path
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from audit.disclosure import Disclosure, disclosure_for
from config.urls import urlpatterns as site
from encryption.opened import unshown
from people.disclosure import person_disclosed
from people.selectors import people_visible_to
from people.services import person_update


def _person(request: HttpRequest, pk: str):
    return people_visible_to(request.user).get(pk=pk)


def through_the_layer(request: HttpRequest, pk: str) -> HttpResponse:
    shown = person_disclosed(_person(request, pk), disclosure=disclosure_for(request))
    return JsonResponse({"full_name": shown["full_name"]})


def own_collector(request: HttpRequest, pk: str) -> HttpResponse:
    shown = person_disclosed(_person(request, pk), disclosure=Disclosure(viewer=request.user))
    return JsonResponse({"full_name": shown["full_name"]})


def forgetful(request: HttpRequest, pk: str) -> HttpResponse:
    return JsonResponse({"full_name": _person(request, pk).full_name})


def shown_then_refused(request: HttpRequest, pk: str) -> HttpResponse:
    person_disclosed(_person(request, pk), disclosure=disclosure_for(request))
    raise Http404


def shown_on_a_form_error(request: HttpRequest, pk: str) -> HttpResponse:
    shown = person_disclosed(_person(request, pk), disclosure=disclosure_for(request))
    return JsonResponse({"full_name": shown["full_name"], "errors": ["Try again."]}, status=400)


def corrected(request: HttpRequest, pk: str) -> HttpResponse:
    """A form's POST: the service checks the names (opening them) and the page redirects."""
    person_update(person=_person(request, pk), notes="Moved on Tuesday")
    return HttpResponseRedirect("/")


def checked_then_leaked(request: HttpRequest, pk: str) -> HttpResponse:
    person = _person(request, pk)
    with unshown():
        assert person.full_name
    return JsonResponse({"full_name": person.full_name})


@api_view(["GET"])
def api_forgetful(request: Request, pk: str) -> Response:
    """A DRF view that hands a model's sealed field straight to its response."""
    return Response({"full_name": _person(request, pk).full_name})


urlpatterns = [
    path("t/api-forgetful/<uuid:pk>/", api_forgetful),
    path("t/corrected/<uuid:pk>/", corrected),
    path("t/leaked/<uuid:pk>/", checked_then_leaked),
    path("t/layer/<uuid:pk>/", through_the_layer),
    path("t/own/<uuid:pk>/", own_collector),
    path("t/forgetful/<uuid:pk>/", forgetful),
    path("t/refused/<uuid:pk>/", shown_then_refused),
    path("t/form-error/<uuid:pk>/", shown_on_a_form_error),
    *site,
]
