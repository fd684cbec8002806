"""What every page promises, checked on every page of the registry for every role that may
open it: never cached, a strict CSP, nothing from another host, every control labelled,
nothing personal kept by the browser or shown in a title."""

from __future__ import annotations

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from tests.web.helpers import LOGIN, controls_of, signed_in_client, text_of
from tests.web.webcases_examples import EXAMPLE_URLS
from tests.web.webedit_examples import WEBEDIT_EXAMPLES
from web import webstaff_views
from web.forms import SafeForm
from web.pages import PAGES

pytestmark = pytest.mark.django_db
EXAMPLE_URLS = {**EXAMPLE_URLS, **WEBEDIT_EXAMPLES}  # the edit pages (webedit_examples.py)

CSP = (
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
)


def every_page(make_staff) -> list[tuple[str, object]]:
    """(address, response) for each page as each role that may open it, plus the pages
    anyone sees."""
    seen = [(LOGIN, Client().get(LOGIN)), ("/no-such-page/", Client().get("/no-such-page/"))]
    for role in Role.values:
        staff = make_staff(role, username=f"{role}-{len(seen)}-safety")
        client = signed_in_client(staff)
        for page in PAGES.values():
            if page.allows(staff.user):
                example = EXAMPLE_URLS.get(page.name)  # a page naming a record: a real one
                url = example(staff.user) if example else reverse(f"web:{page.name}")
                seen.append((f"{url} as {role}", client.get(url)))
        seen.append((f"/audit/ as {role}, allowed or not", client.get("/audit/")))
    return seen


def test_every_page_is_never_cached_and_has_the_strict_policy(make_staff):
    for where, response in every_page(make_staff):
        policy = response["Content-Security-Policy"]
        assert response["Cache-Control"] == "no-store", where
        assert sorted(part.strip() for part in policy.split(";")) == sorted(CSP), where
        assert "unsafe" not in policy, where
        assert response["X-Frame-Options"] == "DENY", where
        # Forms need their Origin sent to this site (CSRF); nothing goes to any other site.
        assert response["Referrer-Policy"] == "same-origin", where


def test_every_page_loads_and_links_only_this_site(make_staff):
    for where, response in every_page(make_staff):
        page = controls_of(response)
        foreign = [url for url in page.urls if not url.startswith(("/", "#")) or "//" in url]
        assert foreign == [], where
        assert "@import" not in response.content.decode(), where


def test_every_control_is_labelled_and_every_page_says_its_language(make_staff):
    for where, response in every_page(make_staff):
        page = controls_of(response)
        unlabelled = [
            control
            for control in page.controls
            if control["tag"] != "button"
            and control.get("type") != "hidden"
            and control.get("id") not in page.label_for
        ]
        assert unlabelled == [], where
        assert page.html_lang == "en", where


def test_no_title_names_the_person_signed_in(make_staff):
    staff = make_staff(Role.CASEWORKER, username="title-probe-person")
    client = signed_in_client(staff)

    for url in ("/account/", "/cases/", "/funds/"):
        page = controls_of(client.get(url))
        assert page.title.endswith("· Safe Passage")
        assert "title-probe-person" not in page.title


def test_every_signed_in_page_offers_quick_exit_language_and_the_idle_notice(make_staff):
    for where, response in every_page(make_staff):
        html = response.content.decode()
        assert 'action="/exit/"' in html, where
        assert 'action="/language/"' in html, where
        if " as " in where:
            assert "If you leave this session idle, it ends at" in text_of(response), where


def test_a_safe_form_keeps_nothing_typed_into_it():
    class Intake(SafeForm):
        full_name = forms.CharField()
        phone = forms.CharField(widget=forms.TextInput(attrs={"inputmode": "tel"}))

    html = str(Intake())

    assert html.count('autocomplete="off"') == 2
    assert html.count('spellcheck="false"') == 2
    assert 'inputmode="tel"' in html


def test_static_files_are_cacheable_and_small():
    client = Client()
    css = client.get("/static/web/web.css")
    script = client.get("/static/web/enhance.js")

    assert css.status_code == script.status_code == 200
    assert "no-store" not in css.get("Cache-Control", "")
    total = sum(len(b"".join(r.streaming_content)) for r in (css, script))
    assert total < 10_000


def test_a_page_error_is_a_page_and_an_api_error_stays_json():
    page = Client().get("/no-such-page/")
    api = Client().get("/api/v1/no-such-thing/")

    assert page.status_code == api.status_code == 404
    assert page["Content-Type"].startswith("text/html")
    assert "There is no page at this address" in text_of(page)
    assert api.json()["code"] == "not_found"


def test_a_page_that_fails_shows_no_detail(make_staff, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret detail: Ruslan Abdulaev, +7 928 000-00-00")

    monkeypatch.setattr(webstaff_views, "render", explode)  # the account page's view
    client = signed_in_client(make_staff())
    client.raise_request_exception = False

    response = client.get("/account/")

    assert response.status_code == 500
    assert "Something went wrong" in text_of(response)
    assert "Ruslan" not in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_pages_follow_the_browsers_language_and_the_switch(make_staff):
    client = signed_in_client(make_staff(), HTTP_ACCEPT_LANGUAGE="ru")
    russian = client.get("/account/")
    client.post("/language/", {"language": "en", "next": "/account/"})
    english = client.get("/account/")

    assert controls_of(russian).html_lang == "ru"
    assert "Ваша учётная запись" in text_of(russian)
    assert controls_of(english).html_lang == "en"
    assert "Your account" in text_of(english)
