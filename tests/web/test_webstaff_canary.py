"""The canary for the staff, account and enrolment pages: an admin's pages never show anything
about the people the programme helps, and what enrolment puts on a page (the enrolment code,
the authenticator's secret, the backup codes, the chosen password) is kept nowhere in clear."""

from __future__ import annotations

import logging
import re
import secrets
from base64 import b32decode

import pytest
from django.test import Client

from accounts.models import StaffChange, User
from accounts.roles import Role
from cases.services import case_create, note_create
from people.models import Person
from people.services import person_create
from tests.web.canary import at_rest
from tests.web.helpers import signed_in_client
from tests.web.test_webstaff_pages import enrol_through_the_pages, shown_code

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admins_pages_never_show_personal_data(make_staff):
    tag = secrets.token_hex(4)
    caseworker, coordinator = make_staff(Role.CASEWORKER), make_staff(Role.COORDINATOR)
    canaries = {
        "name": f"Canary Name {tag}",
        "phone": "+7 928 555-01-" + str(10 + int(tag[:2], 16) % 80),
        "notes": f"canary notes {tag}",
        "summary": f"canary summary {tag}",
        "location": f"canary location {tag}",
        "note": f"canary case note {tag}",
    }
    person = person_create(
        created_by=caseworker.user,
        full_name=canaries["name"],
        phone=canaries["phone"],
        notes=canaries["notes"],
    )
    case = case_create(
        created_by=coordinator.user,
        primary_person=person,
        summary=canaries["summary"],
        location=canaries["location"],
    )
    note_create(case=case, author=caseworker.user, body=canaries["note"])
    first, second = make_staff(Role.ADMIN), make_staff(Role.ADMIN)
    admin = signed_in_client(first)

    seen = [admin.get(url) for url in ("/staff/", "/staff/new/", "/staff/changes/", "/account/")]
    seen.append(
        admin.post(
            "/staff/new/",
            {"username": f"new-{tag}", "roles": ["caseworker"], "otp": first.fresh_totp()},
        )
    )
    seen.append(
        admin.post(f"/staff/{caseworker.user.pk}/reset/", {"reset-otp": first.fresh_totp()})
    )
    change = StaffChange.objects.filter(status=StaffChange.Status.PENDING).first()
    seen.append(
        signed_in_client(second).post(
            f"/staff/changes/{change.pk}/approve/",
            {f"c{change.pk.hex}-approve-otp": second.fresh_totp()},
        )
    )
    seen += [admin.get(f"/staff/{user.pk}/") for user in User.objects.all()]
    seen.append(admin.get("/staff/changes/"))

    assert all(response.status_code in (200, 201) for response in seen)
    pages = "\n".join(response.content.decode() for response in seen)
    assert [label for label, value in canaries.items() if value in pages] == []
    # Guards the search: the data is there, sealed, and opens for whoever may read it.
    assert Person.objects.with_keys().get(pk=person.pk).full_name == canaries["name"]
    assert caseworker.user.username in pages


def test_nothing_enrolment_shows_on_a_page_is_kept_in_clear(make_staff, caplog):
    caplog.set_level(logging.DEBUG)
    admin = make_staff(Role.ADMIN)
    created = signed_in_client(admin).post(
        "/staff/new/",
        {"username": "canary-enrols", "roles": ["auditor"], "otp": admin.fresh_totp()},
    )
    code = shown_code(created)
    password = f"canary passphrase {secrets.token_hex(6)}"

    redeemed, confirmed = enrol_through_the_pages(Client(), "canary-enrols", code, password)

    assert confirmed.status_code == 302
    html = redeemed.content.decode()
    secret = shown_code(redeemed).replace(" ", "")
    backup_codes = re.findall(r"<li>([a-z2-7]{8})</li>", html)
    assert len(backup_codes) == 10
    key = b32decode(secret + "=" * (-len(secret) % 8))
    needles = [code, code.replace("-", ""), password, secret, key.hex(), *backup_codes]
    assert at_rest(needles, log_text=caplog.text) == {}
