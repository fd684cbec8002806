"""Example addresses of the edit pages that name a record, for the tests that visit every page
of the registry (tests/web/test_page_safety.py): a real case with its household, a need and a
note (tests/web/webcases_examples.py's, opened by the visitor if they are a caseworker, so it
is theirs), its edit page, and its primary person's."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

from accounts.models import User
from tests.web.webcases_examples import example_case


def _case_edit_url(user: User) -> str:
    return reverse("web:case-edit", kwargs={"case_id": example_case(user).pk})


def _person_edit_url(user: User) -> str:
    person = example_case(user).primary_person_id
    return reverse("web:person-edit", kwargs={"person_id": person})


# Page name (web.pages.PAGES) -> the address of an example of it for this visitor.
WEBEDIT_EXAMPLES: dict[str, Callable[[User], str]] = {
    "case-edit": _case_edit_url,
    "person-edit": _person_edit_url,
}
