"""What a duplicate check leaves for an investigator: per criterion, a digest of the normalised
value under the day's look-up key. Whoever holds the keys can test later whether a value was
looked up and by whom (`manage.py audit_lookups`); a dump alone reveals nothing; once the day's
key is destroyed (`manage.py expire_audit_lookups`), that day's digests match nothing."""

from __future__ import annotations

import datetime
import hashlib
import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from accounts.roles import Role
from audit.models import Action, LogEntry
from encryption.keyring import new_key_text
from encryption.lookups import lookup_key_current, lookup_keys_expire, lookup_keys_live
from encryption.models import DataKey, LookupKey
from encryption.sentinels import key_problems
from people.models import Person
from people.services import person_duplicate_check
from tests.concurrency import run_at_once
from tests.people.helpers import PEOPLE_URL

DUPLICATES_URL = f"{PEOPLE_URL}duplicates/"
PHONE = "+7 928 555-12-34"


def audit_lookups(*args: str) -> str:
    out = io.StringIO()
    call_command("audit_lookups", *args, stdout=out)
    return out.getvalue()


def checks() -> list[LogEntry]:
    return list(LogEntry.objects.filter(action=Action.DUPLICATE_CHECK).order_by("sequence"))


def today() -> datetime.date:
    return timezone.now().astimezone(datetime.UTC).date()


@pytest.fixture
def checker(make_staff, client_for):
    staff = make_staff(Role.CASEWORKER, username="checker")
    return staff, client_for(staff)


@pytest.mark.django_db
def test_a_check_leaves_keyed_digests_that_say_nothing_without_the_key(checker):
    _, client = checker

    client.post(DUPLICATES_URL, {"phone": PHONE, "full_name": "Аслан Мусаев"})

    (entry,) = checks()
    digests = entry.additional_data["digests"]
    assert entry.additional_data["lookup_key"] == today().isoformat()
    # Neither the value, nor a plain hash anyone could recompute, nor the blind index.
    dumped = str(entry.additional_data) + entry.object_repr + str(entry.changes)
    assert "5551234" not in dumped
    assert "Мусаев" not in dumped
    assert digests["phone"] != hashlib.sha256(b"+79285551234").hexdigest()
    assert digests["phone"] not in set(Person.objects.values_list("phone_index", flat=True))
    # The key is a data key, stored only wrapped, like every other.
    key = LookupKey.objects.get(period=today())
    assert DataKey.objects.get(pk=key.data_key_id).owner_label == "encryption.lookupkey"


@pytest.mark.django_db
def test_the_same_value_gives_another_digest_under_another_days_key(checker):
    _, client = checker
    client.post(DUPLICATES_URL, {"phone": PHONE})
    LookupKey.objects.filter(period=today()).update(period=today() - datetime.timedelta(days=1))

    client.post(DUPLICATES_URL, {"phone": "8 (928) 555-12-34"})

    first, second = (entry.additional_data for entry in checks())
    assert first["lookup_key"] == second["lookup_key"]  # both recorded under "today" ...
    assert first["digests"]["phone"] != second["digests"]["phone"]  # ... by different keys


@pytest.mark.django_db
def test_audit_lookups_names_who_looked_a_value_up_however_it_was_written(checker):
    _, client = checker
    client.post(DUPLICATES_URL, {"phone": PHONE})
    client.post(DUPLICATES_URL, {"phone": "+7 928 000-00-01"})
    shouted = "Аслан  " + "мусаев".upper()  # another case and spacing
    client.post(DUPLICATES_URL, {"full_name": shouted, "phone": "8 (928) 555-12-34"})

    out = audit_lookups("--phone", "89285551234", "--full-name", "аслан мусаев")

    found = [line for line in out.splitlines() if "matched on" in line]
    sequences = [entry.sequence for entry in checks()]
    assert len(found) == 2
    assert f"audit entry {sequences[0]}," in found[0]
    assert "matched on phone " in found[0]
    assert f"audit entry {sequences[2]}," in found[1]
    assert "full_name, phone" in found[1]
    assert all(" checker " in line for line in found)
    assert "5551234" not in out
    assert "мусаев" not in out.lower()
    tested = LogEntry.objects.get(action=Action.LOOKUPS_TESTED)
    assert tested.additional_data == {"criteria": ["full_name", "phone"], "found": 2}


@pytest.mark.django_db
def test_a_value_never_looked_up_is_not_found(checker):
    _, client = checker
    client.post(DUPLICATES_URL, {"phone": PHONE})

    out = audit_lookups("--phone", "+7 928 555-12-35")

    assert "0 duplicate check(s) found" in out


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args", [(), ("--phone", "not a phone"), ("--full-name", "   "), ("--document-number", "--")]
)
def test_audit_lookups_needs_something_a_check_could_have_looked_up(args):
    with pytest.raises(CommandError):
        audit_lookups(*args)


@pytest.mark.django_db
def test_once_the_days_key_is_destroyed_its_look_ups_cannot_be_tested(checker):
    _, client = checker
    client.post(DUPLICATES_URL, {"phone": PHONE})
    days = settings.AUDIT_LOOKUP_RETENTION_DAYS

    kept = lookup_keys_expire(retention_days=days, today=today() + datetime.timedelta(days=days))
    assert kept == 0
    assert "1 duplicate check(s) found" in audit_lookups("--phone", PHONE)
    destroyed = lookup_keys_expire(
        retention_days=days, today=today() + datetime.timedelta(days=days + 1)
    )

    assert destroyed == 1
    assert lookup_keys_live() == []
    assert "No look-up key is left" in audit_lookups("--phone", PHONE)
    assert LookupKey.objects.get().data_key.destroyed  # the row stays; its key is gone
    (entry,) = checks()
    assert entry.additional_data["digests"]  # kept for ever, and unlinkable now


@pytest.mark.django_db
def test_expire_audit_lookups_destroys_only_keys_past_the_retention(checker, settings):
    settings.AUDIT_LOOKUP_RETENTION_DAYS = 2
    _, client = checker
    for age in (4, 3, 2, 0):
        client.post(DUPLICATES_URL, {"phone": PHONE})
        LookupKey.objects.filter(period=today()).update(
            period=today() - datetime.timedelta(days=age)
        )
    out = io.StringIO()

    call_command("expire_audit_lookups", stdout=out)

    live = [key.period for key in lookup_keys_live()]
    assert live == [today() - datetime.timedelta(days=2), today()]
    assert "Destroyed 2 look-up key(s)" in out.getvalue()


@pytest.mark.django_db
def test_look_up_keys_are_rewrapped_by_rotation_and_still_test(checker):
    _, client = checker
    client.post(DUPLICATES_URL, {"phone": PHONE})
    new_kek = f"new:{new_key_text()}"

    with override_settings(ENCRYPTION_KEKS=f"{new_kek},{settings.ENCRYPTION_KEKS}"):
        call_command("rotate_keys", stdout=io.StringIO())
    with override_settings(ENCRYPTION_KEKS=new_kek):
        assert LookupKey.objects.get().data_key.kek_id == "new"
        assert key_problems() == []
        assert "1 duplicate check(s) found" in audit_lookups("--phone", PHONE)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_the_days_first_checks_at_once_share_one_key(make_staff):
    users = [make_staff(Role.CASEWORKER).user for _ in range(4)]

    def check(user):
        return lambda: transaction.atomic()(person_duplicate_check)(
            user=user, criteria={"phone": PHONE}
        )

    run_at_once(*(check(user) for user in users))

    assert LookupKey.objects.count() == 1
    assert {entry.additional_data["digests"]["phone"] for entry in checks()} == {
        checks()[0].additional_data["digests"]["phone"]
    }
    assert lookup_key_current().period == today()
