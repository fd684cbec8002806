"""The two identities lockout counts against: the username and the client address."""

from __future__ import annotations

from django.test import RequestFactory
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import normalize_username
from common.client_ip import client_ip_for

usernames = st.from_regex(r"[a-z0-9][a-z0-9._-]{2,20}", fullmatch=True)


@given(usernames, st.lists(st.booleans(), min_size=21, max_size=21), st.text(" \t", max_size=3))
def test_every_spelling_of_a_username_counts_as_one(username, upper, padding):
    respelled = "".join(c.upper() if up else c for c, up in zip(username, upper, strict=False))

    assert normalize_username(padding + respelled + padding) == username


@given(st.text(max_size=40))
def test_normalising_a_username_twice_changes_nothing(text):
    once = normalize_username(text)

    assert normalize_username(once) == once


def test_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="10.0.0.1")

    assert client_ip_for(request) == "192.0.2.1"


def test_only_the_hops_added_by_trusted_proxies_are_believed(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    forged_then_real = "203.0.113.66, 198.51.100.7"
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forged_then_real
    )

    assert client_ip_for(request) == "198.51.100.7"
