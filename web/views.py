"""The pages every visitor meets: sign in and out, quick exit, home, the neutral page and the
error pages. Each area's pages have their own module (web.webcases_views, web.webmoney_views,
web.weboversight_views, web.webstaff_views).

Views stay thin: a form checks shape, a service or selector does the work, a template shows
it. Signing in goes through the same `accounts.services.login` as the API, so the lockout, the
throttle and the audit entries are the same: there is no second way in.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from rest_framework.request import Request

from accounts.lockout import LockedOut
from accounts.services import LoginFailed, login
from accounts.throttles import LoginRateThrottle
from common import errors
from web.decorators import sign_in_redirect
from web.forms import SignInForm
from web.middleware import is_web_request
from web.pages import main_page_for
from web.sessions import (
    ENDED_IDLE,
    ENDED_REVOKED,
    ENDED_SIGNED_OUT,
    remember_device,
    session_end,
    session_start,
)

# What the sign-in page says after a session ended (the `ended` query parameter).
ENDED_MESSAGES = {
    ENDED_SIGNED_OUT: gettext_lazy("You have signed out."),
    ENDED_IDLE: gettext_lazy(
        "Your session ended because it was idle for too long. Please sign in again."
    ),
    ENDED_REVOKED: gettext_lazy("Your session has ended. Please sign in again."),
}

# Clears what this site left in the browser (cookies, cache, storage) as the quick exit leaves.
CLEAR_SITE_DATA = '"cache", "cookies", "storage"'


def _safe_next(request: HttpRequest, candidate: str | None) -> str | None:
    """A same-site path to go back to after sign-in, or None."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//"):
        return None
    if not url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    return candidate


def _throttle_wait(request: HttpRequest) -> int | None:
    """Seconds to wait when this address has sent too many sign-in attempts: the API's own
    login throttle and its counter, so both doors share one budget."""
    throttle = LoginRateThrottle()
    if throttle.allow_request(Request(request), None):
        return None
    return max(1, int(throttle.wait() or 1))


@require_http_methods(["GET", "HEAD", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    next_path = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated:
        return redirect(next_path or reverse("web:home"))
    form = SignInForm(request.POST if request.method == "POST" else None)
    # This browser's device token (its own cookie): its failures count against it, and it
    # signs in although strangers' failures hold the account up for new devices.
    request.device_token = request.COOKIES.get(settings.UI_DEVICE_COOKIE_NAME)
    problem, status, headers = None, 200, {}
    if request.method == "POST":
        wait = _throttle_wait(request)
        if wait is not None:
            status, headers["Retry-After"] = 429, str(wait)
            problem = ngettext(
                "Too many sign-in attempts from this address. Try again in %(seconds)s second.",
                "Too many sign-in attempts from this address. Try again in %(seconds)s seconds.",
                wait,
            ) % {"seconds": wait}
        elif not form.is_valid():
            status = 400
        else:
            try:
                issued = login(
                    request=request, device_token=request.device_token, **form.cleaned_data
                )
            except LockedOut as refusal:
                status, headers = 429, dict(refusal.headers)
                minutes = max(1, math.ceil(int(headers.get("Retry-After", "60")) / 60))
                problem = ngettext(
                    "Too many failed sign-in attempts. Try again in %(minutes)s minute, or "
                    "from a device that has signed in to this account before, or ask an "
                    "administrator.",
                    "Too many failed sign-in attempts. Try again in %(minutes)s minutes, or "
                    "from a device that has signed in to this account before, or ask an "
                    "administrator.",
                    minutes,
                ) % {"minutes": minutes}
            except LoginFailed:
                status = 401
                problem = _("Sign-in failed: the username, password or code is not valid.")
            else:
                session_start(request=request, issued=issued)
                response = redirect(next_path or reverse("web:home"))
                remember_device(response, issued.device_token)
                return response
    ended = request.web_session_ended or request.GET.get("ended")
    context = {
        "form": form,
        "problem": problem,
        "ended_message": ENDED_MESSAGES.get(ended) if not problem else None,
        "next": next_path or "",
    }
    response = render(request, "web/sign_in.html", context, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    session_end(request=request, token=request.web_session.token, reason="logout")
    return HttpResponseRedirect(f"{reverse('web:login')}?ended={ENDED_SIGNED_OUT}")


@require_POST
def quick_exit(request: HttpRequest) -> HttpResponse:
    """End the session and its token at once and leave for a page that names nothing of this
    product. Never refused: a stale form (web.views.csrf_failure) ends up here too."""
    return _leave(request)


def _leave(request: HttpRequest) -> HttpResponse:
    session = getattr(request, "web_session", None)
    session_end(request=request, token=session.token if session else None, reason="quick exit")
    response = HttpResponseRedirect(settings.UI_QUICK_EXIT_URL or reverse("web:neutral"))
    response["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


@require_safe
def neutral(request: HttpRequest) -> HttpResponse:
    """Where quick exit lands: an ordinary recipe, with no link, style, script or word of
    this product."""
    return render(request, "web/neutral.html")


@require_safe
def no_icon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on their own. None is offered: an icon would be kept in
    the browser's history database, a trace of this site on a seized laptop."""
    return HttpResponse(status=204)


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return sign_in_redirect(request)
    return redirect(f"web:{main_page_for(request.user).name}")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form without a valid CSRF token does nothing, except quick exit: ending one's own
    session can never harm the person who asks, and an emergency button must not fail on a
    form that went stale in another tab."""
    if not is_web_request(request):
        return errors.handler403(request)
    if request.path == reverse("web:exit"):
        return _leave(request)
    return render(request, "web/csrf_failure.html", status=403)
