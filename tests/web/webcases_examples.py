"""Example addresses of the case pages that name a record, for the tests that visit every page
of the registry (tests/web/test_page_safety.py): a real case (opened by the visitor if they are
a caseworker, so it is theirs) with its household, a need and a note, so every section and
form of the page is on it."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from cases.services import Member, case_create, need_create, note_create
from people.services import person_create


def example_case(user: User):
    opener = user
    if not user.has_role(Role.CASEWORKER):
        opener = User.objects.filter(groups__name=Role.CASEWORKER, is_active=True).first() or user
    person = person_create(created_by=opener, full_name="Example Person", phone="+7 928 111-22-33")
    member = person_create(created_by=opener, full_name="Example Partner")
    case = case_create(
        created_by=opener,
        primary_person=person,
        members=[Member(person=member, relationship="partner")],
        risk_level="critical",
        protection_concerns=["in_hiding"],
        summary="Example summary",
        location="Example location",
        safe_contact="Example contact",
    )
    need_create(case=case, created_by=opener, category="travel", description="Example need")
    note_create(case=case, author=opener, body="Example note")
    return case


def _case_url(user: User) -> str:
    return reverse("web:case", kwargs={"case_id": example_case(user).pk})


def _person_url(user: User) -> str:
    return reverse("web:person", kwargs={"person_id": example_case(user).primary_person_id})


# Page name (web.pages.PAGES) -> the address of an example of it for this visitor. The
# coordinators' part of a case ("case-steer") is shown on the case page itself.
EXAMPLE_URLS: dict[str, Callable[[User], str]] = {
    "case": _case_url,
    "case-steer": _case_url,
    "person": _person_url,
}
