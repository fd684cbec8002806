"""One ACCESS entry per response, and the read index that keeps "who read this record" one
indexed query: written with the entry, append-only, checked by verification."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.roles import Role
from audit.events import record_reads
from audit.models import AccessIndex, Action, LogEntry
from audit.verify import verify_chain
from people.services import person_create
from tests.audit.helpers import owner_without_triggers
from tests.people.helpers import PEOPLE_URL, a_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed(make_staff, client_for):
    """A caseworker who recorded three people, then read a list of them: one response."""
    caseworker, auditor = make_staff(Role.CASEWORKER), make_staff(Role.AUDITOR)
    client = client_for(caseworker)
    people = [client.post(PEOPLE_URL, a_person()).json()["id"] for _ in range(3)]
    before = LogEntry.objects.filter(action=Action.ACCESS).count()
    shown = [row["id"] for row in client.get(PEOPLE_URL).json()["results"]]
    assert set(people) <= set(shown)
    entries = LogEntry.objects.filter(action=Action.ACCESS).order_by("sequence")[before:]
    return caseworker, client_for(auditor), shown, list(entries)


def test_a_list_response_writes_one_entry_naming_every_record_and_field(listed):
    caseworker, _auditor, shown, entries = listed

    [entry] = entries
    assert entry.actor == caseworker.user
    assert [r["id"] for r in entry.additional_data["read"]] == shown
    assert all(r["type"] == "people.person" for r in entry.additional_data["read"])
    assert all("full_name" in r["fields"] for r in entry.additional_data["read"])
    indexed = AccessIndex.objects.filter(entry=entry).values_list("object_pk", flat=True)
    assert sorted(indexed) == sorted(shown)
    assert verify_chain().ok


def test_an_auditor_still_finds_who_read_a_person_in_one_query(listed):
    caseworker, auditor, shown, [entry] = listed

    found = auditor.get(
        "/api/v1/audit/entries/",
        {"object_type": "people.person", "object_id": shown[1], "action": "access"},
    ).json()["results"]

    assert entry.id in [row["id"] for row in found]
    assert all(row["action"] == "access" for row in found)
    assert {row["actor"] for row in found} == {caseworker.user.username}
    other_type = auditor.get(
        "/api/v1/audit/entries/", {"object_type": "cases.case", "object_id": shown[1]}
    ).json()["results"]
    assert other_type == []  # the record is named with its type, not by its id alone


def test_the_read_index_cannot_be_changed(listed):
    _caseworker, _auditor, shown, [entry] = listed
    for statement in (
        "UPDATE audit_accessindex SET object_pk = 'someone-else'",
        "DELETE FROM audit_accessindex",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert AccessIndex.objects.filter(entry=entry).count() == len(shown)


def test_a_forged_index_row_is_named_by_verification(listed):
    *_, [entry] = listed
    with owner_without_triggers() as cursor:
        cursor.execute(
            "INSERT INTO audit_accessindex (entry_id, content_type_id, object_pk) "
            "SELECT entry_id, content_type_id, 'not-read' FROM audit_accessindex "
            "WHERE entry_id = %s LIMIT 1",
            [entry.pk],
        )

    result = verify_chain()

    assert not result.ok
    assert (result.first_break.entry_id, result.first_break.sequence) == (entry.pk, entry.sequence)
    assert "read index" in result.first_break.problem


def test_an_index_row_pointed_at_another_entry_is_named(listed):
    *_, [entry] = listed
    other = LogEntry.objects.exclude(action=Action.ACCESS).order_by("sequence").first()
    with owner_without_triggers() as cursor:
        cursor.execute(
            "INSERT INTO audit_accessindex (entry_id, content_type_id, object_pk) "
            "SELECT %s, content_type_id, object_pk FROM audit_accessindex "
            "WHERE entry_id = %s LIMIT 1",
            [other.pk, entry.pk],
        )

    result = verify_chain()

    assert result.first_break.entry_id == other.pk
    assert "records no read" in result.first_break.problem


def test_an_index_row_naming_no_entry_at_all_is_named(listed):
    """The index holds no database foreign key to the entries (a key check locks the row it
    names at every commit): a row naming an entry that does not exist is the verifier's."""
    *_, [entry] = listed
    missing = LogEntry.objects.order_by("-id").values_list("id", flat=True).first() + 1000
    with owner_without_triggers() as cursor:
        cursor.execute(
            "INSERT INTO audit_accessindex (entry_id, content_type_id, object_pk) "
            "SELECT %s, content_type_id, object_pk FROM audit_accessindex "
            "WHERE entry_id = %s LIMIT 1",
            [missing, entry.pk],
        )

    result = verify_chain()

    assert not result.ok
    assert result.first_break.entry_id == missing
    assert "read index" in result.first_break.problem


def test_a_read_of_a_type_with_no_content_type_is_named_whatever_rows_are_forged(make_staff):
    """An honest entry never names a type that has no content type (the read-index trigger
    could give it no row). Such an entry is reported, and no forged row can stand for it: the
    verifier expects a row that none can be (its content type column is NOT NULL)."""
    from accounts.models import User
    from audit.events import record_event

    read = [{"type": "nowhere.nothing", "id": "1", "fields": ["name"]}]
    entry = record_event(action=Action.ACCESS, instance=None, model=User, data={"read": read})
    assert not AccessIndex.objects.filter(entry_id=entry.pk).exists()
    with owner_without_triggers() as cursor:
        cursor.execute(
            "INSERT INTO audit_accessindex (entry_id, content_type_id, object_pk) "
            "VALUES (%s, -1, '1')",
            [entry.pk],
        )

    result = verify_chain()

    assert not result.ok
    assert result.first_break.entry_id == entry.pk
    assert "read index" in result.first_break.problem


def test_a_deleted_index_row_is_named(listed):
    *_, [entry] = listed
    with owner_without_triggers() as cursor:
        cursor.execute(
            "DELETE FROM audit_accessindex WHERE id = "
            "(SELECT max(id) FROM audit_accessindex WHERE entry_id = %s)",
            [entry.pk],
        )

    result = verify_chain()

    assert result.first_break.entry_id == entry.pk
    assert "does not match" in result.first_break.problem


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_read_leaves_no_entry_and_no_index_row(make_staff):
    caseworker = make_staff(Role.CASEWORKER)
    people = [person_create(created_by=caseworker.user, full_name="Read then rolled back")]
    rows = AccessIndex.objects.count()
    entries = LogEntry.objects.count()

    def read_then_fail() -> None:
        with transaction.atomic():
            record_reads(revealed=[(person, ["full_name"]) for person in people], actor=None)
            raise RuntimeError("the response fails")

    with pytest.raises(RuntimeError):
        read_then_fail()

    assert (AccessIndex.objects.count(), LogEntry.objects.count()) == (rows, entries)
