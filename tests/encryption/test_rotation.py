"""Key rotation: every data key ends up wrapped by the new KEK, the old one can then be removed,
a run that dies halfway loses nothing and simply runs again, and wrong keys rewrap nothing."""

from __future__ import annotations

import io
import stat
import uuid
from collections import Counter

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import override_settings

from audit.models import Action, LogEntry
from encryption import services
from encryption.exceptions import EncryptionError
from encryption.keyring import new_key_text, parse_keks
from encryption.models import DataKey, KeySentinel
from encryption.sentinels import key_problems
from encryption.services import data_keys_rotate
from people.models import Person
from people.services import person_shred
from tests.encryption.helpers import table_rows

pytestmark = pytest.mark.django_db

NAMES = [f"Person Number {n}" for n in range(5)]
# The recorder's authenticator secret is sealed under a data key of its own, rotated alike.
KEYS = len(NAMES) + 1


class SimulatedCrash(Exception):
    pass


@pytest.fixture
def people(new_person) -> list[Person]:
    return [new_person(full_name=name, phone=f"+7 928 000-00-0{n}") for n, name in enumerate(NAMES)]


@pytest.fixture
def old_kek_id() -> str:
    return parse_keks(settings.ENCRYPTION_KEKS)[1]


@pytest.fixture
def new_kek() -> str:
    return f"new:{new_key_text()}"


def names_as_read_now() -> list[str]:
    """Every person read afresh, each data key unwrapped with the keys configured now."""
    return sorted(person.full_name for person in Person.objects.with_keys().all())


def live_kek_ids() -> list[str]:
    return list(DataKey.objects.filter(destroyed_at__isnull=True).values_list("kek_id", flat=True))


def flipped_last_byte(wrapped: bytes) -> bytes:
    """The wrapped key with its last byte changed, whatever it was (setting it to a fixed value
    would change nothing one time in 256)."""
    data = bytes(wrapped)
    return data[:-1] + bytes([data[-1] ^ 0x01])


def rewrap_entries() -> list[dict]:
    entries = LogEntry.objects.filter(action=Action.KEYS_REWRAPPED).order_by("sequence")
    return [entry.additional_data for entry in entries]


def test_rotate_keys_rewraps_every_data_key_under_the_new_kek(people, new_kek, old_kek_id):
    person_rows = table_rows(Person)
    wrapped_before = dict(DataKey.objects.values_list("id", "wrapped"))

    with override_settings(ENCRYPTION_KEKS=f"{new_kek},{settings.ENCRYPTION_KEKS}"):
        call_command("rotate_keys", stdout=io.StringIO())

    assert set(live_kek_ids()) == {"new"}
    assert all(
        bytes(wrapped) != bytes(wrapped_before[pk])
        for pk, wrapped in DataKey.objects.values_list("id", "wrapped")
    )
    assert table_rows(Person) == person_rows  # the data itself is not re-encrypted
    with override_settings(ENCRYPTION_KEKS=new_kek):
        assert key_problems() == []  # the old KEK can be removed
        assert names_as_read_now() == sorted(NAMES)
    assert rewrap_entries() == [{"from": [old_kek_id], "to": "new", "count": KEYS}]


def test_a_second_rotation_has_nothing_to_do(people, new_kek):
    with override_settings(ENCRYPTION_KEKS=f"{new_kek},{settings.ENCRYPTION_KEKS}"):
        data_keys_rotate()
        rows = table_rows(DataKey)

        assert data_keys_rotate() == 0

    assert table_rows(DataKey) == rows
    assert len(rewrap_entries()) == 1


def test_the_old_kek_is_reported_removable_after_rotation(people, new_kek, old_kek_id):
    out = io.StringIO()

    with override_settings(ENCRYPTION_KEKS=f"{new_kek},{settings.ENCRYPTION_KEKS}"):
        call_command("rotate_keys", stdout=out)

    assert f"{old_kek_id!r}" in out.getvalue().split("Rewrapped")[-1]


def test_rotation_killed_after_a_batch_loses_nothing_and_resumes(people, new_kek, old_kek_id):
    def crash_after_first_batch(done: int, total: int) -> None:
        raise SimulatedCrash

    with override_settings(ENCRYPTION_KEKS=f"{new_kek},{settings.ENCRYPTION_KEKS}"):
        with pytest.raises(SimulatedCrash):
            data_keys_rotate(batch_size=2, on_batch=crash_after_first_batch)

        assert Counter(live_kek_ids()) == {"new": 2, old_kek_id: KEYS - 2}
        assert names_as_read_now() == sorted(NAMES)

        assert data_keys_rotate(batch_size=2) == KEYS - 2

    assert set(live_kek_ids()) == {"new"}
    with override_settings(ENCRYPTION_KEKS=new_kek):
        assert names_as_read_now() == sorted(NAMES)
    assert rewrap_entries() == [
        {"from": [old_kek_id], "to": "new", "count": 2},
        {"from": [old_kek_id], "to": "new", "count": 2},
        {"from": [old_kek_id], "to": "new", "count": 2},
    ]


def test_rotation_killed_inside_a_batch_rolls_that_batch_back(
    people, new_kek, old_kek_id, monkeypatch
):
    real_wrap, calls = services.wrap, []

    def wrap_then_die(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # the first key of the second batch
            raise SimulatedCrash
        return real_wrap(*args, **kwargs)

    monkeypatch.setattr(services, "wrap", wrap_then_die)
    with override_settings(ENCRYPTION_KEKS=f"{new_kek},{settings.ENCRYPTION_KEKS}"):
        with pytest.raises(SimulatedCrash):
            data_keys_rotate(batch_size=2)

        assert Counter(live_kek_ids()) == {"new": 2, old_kek_id: KEYS - 2}
        assert len(rewrap_entries()) == 1
        monkeypatch.setattr(services, "wrap", real_wrap)
        assert data_keys_rotate(batch_size=2) == KEYS - 2

    assert set(live_kek_ids()) == {"new"}
    with override_settings(ENCRYPTION_KEKS=new_kek):
        assert names_as_read_now() == sorted(NAMES)


def test_new_data_keys_are_wrapped_by_the_active_kek(people, new_kek, new_person):
    with override_settings(ENCRYPTION_KEKS=f"{new_kek},{settings.ENCRYPTION_KEKS}"):
        person = new_person(full_name="Recorded After The New Key")

    assert DataKey.objects.get(pk=person.data_key_id).kek_id == "new"


def test_destroyed_keys_are_not_rewrapped_and_do_not_hold_back_the_old_kek(
    people, new_kek, old_kek_id, recorder
):
    person_shred(person=people[0], actor=recorder)

    with override_settings(ENCRYPTION_KEKS=f"{new_kek},{settings.ENCRYPTION_KEKS}"):
        assert data_keys_rotate() == KEYS - 1

    erased_key = DataKey.objects.get(pk=people[0].data_key_id)
    assert erased_key.wrapped is None
    assert erased_key.kek_id == old_kek_id
    with override_settings(ENCRYPTION_KEKS=new_kek):
        assert key_problems() == []  # the new key alone opens everything still alive
        assert sorted(
            p.full_name for p in Person.objects.with_keys().filter(erased_at__isnull=True)
        ) == sorted(NAMES[1:])


@pytest.mark.parametrize("wrong", ["old KEK missing", "old KEK wrong"])
def test_rotation_with_wrong_keys_refuses_and_rewrites_nothing(people, new_kek, old_kek_id, wrong):
    keks = {
        "old KEK missing": new_kek,
        "old KEK wrong": f"{new_kek},{old_kek_id}:{new_key_text()}",
    }[wrong]
    before = [table_rows(DataKey), table_rows(KeySentinel), table_rows(Person)]

    with override_settings(ENCRYPTION_KEKS=keks):
        with pytest.raises(CommandError, match=repr(old_kek_id)):
            call_command("rotate_keys", stdout=io.StringIO())
        with pytest.raises(ImproperlyConfigured, match=repr(old_kek_id)):
            data_keys_rotate()

    assert [table_rows(DataKey), table_rows(KeySentinel), table_rows(Person)] == before
    assert rewrap_entries() == []


def test_a_data_key_that_does_not_unwrap_stops_the_rotation(people, new_kek):
    broken = DataKey.objects.get(pk=people[2].data_key_id)
    DataKey.objects.filter(pk=broken.pk).update(wrapped=flipped_last_byte(broken.wrapped))
    before = table_rows(DataKey)

    with (
        override_settings(ENCRYPTION_KEKS=f"{new_kek},{settings.ENCRYPTION_KEKS}"),
        pytest.raises((EncryptionError, ImproperlyConfigured), match=str(broken.pk)),
    ):
        # One batch holds every key there is (the recorder's and any other fixture's too): the
        # broken key rolls it all back.
        data_keys_rotate(batch_size=DataKey.objects.count())

    assert table_rows(DataKey) == before
    assert rewrap_entries() == []


def test_batches_before_a_broken_key_stay_rewrapped_and_the_rest_is_untouched(people, new_kek):
    """Batches are committed one by one (a run that dies loses only its current batch): with one
    key per batch, the keys ordered before the broken one are rewrapped and open with the new KEK
    alone; the broken key and every key after it keep their old wrapping."""
    broken = DataKey.objects.get(pk=people[2].data_key_id)
    DataKey.objects.filter(pk=broken.pk).update(wrapped=flipped_last_byte(broken.wrapped))
    before = {uuid.UUID(str(row[0])): row for row in table_rows(DataKey)}
    ordered = sorted(before)  # the rotation's order: by id

    with (
        override_settings(ENCRYPTION_KEKS=f"{new_kek},{settings.ENCRYPTION_KEKS}"),
        pytest.raises((EncryptionError, ImproperlyConfigured), match=str(broken.pk)),
    ):
        data_keys_rotate(batch_size=1)

    after = {uuid.UUID(str(row[0])): row for row in table_rows(DataKey)}
    position = ordered.index(broken.pk)
    assert [after[pk] for pk in ordered[position:]] == [before[pk] for pk in ordered[position:]]
    rewrapped = ordered[:position]
    assert {pk: after[pk][3] for pk in rewrapped} == {pk: "new" for pk in rewrapped}
    assert sum(entry["count"] for entry in rewrap_entries()) == len(rewrapped)


# -- rotate_keys --new-kek, with the KEKs in a file ---------------------------------------------


@pytest.fixture
def kek_file(tmp_path):
    path = tmp_path / "encryption-keks"
    path.write_text(settings.ENCRYPTION_KEKS + "\n", encoding="utf-8")
    path.chmod(0o640)  # group-readable: the rewritten file must still end up private
    return path


def test_new_kek_is_added_first_to_a_private_key_file_then_used_after_restart(
    people, kek_file, old_kek_id
):
    old_keks = parse_keks(settings.ENCRYPTION_KEKS)[0]

    with override_settings(
        ENCRYPTION_KEKS=settings.ENCRYPTION_KEKS, ENCRYPTION_KEKS_PATH=str(kek_file)
    ):
        call_command("rotate_keys", "--new-kek", "rotated-1", stdout=io.StringIO())
        # Servers still running with the old list must keep opening every key: nothing is
        # rewrapped until they have restarted with the new one.
        assert set(live_kek_ids()) == {old_kek_id}
        assert names_as_read_now() == sorted(NAMES)

    keks, active = parse_keks(kek_file.read_text(encoding="utf-8"))
    assert active == "rotated-1"
    assert list(keks) == ["rotated-1", *old_keks]
    assert {kek_id: keks[kek_id] for kek_id in old_keks} == old_keks
    assert stat.S_IMODE(kek_file.stat().st_mode) == 0o600
    with override_settings(ENCRYPTION_KEKS=kek_file.read_text(encoding="utf-8")):  # restarted
        call_command("rotate_keys", "--batch-size", "2", stdout=io.StringIO())
    assert set(live_kek_ids()) == {"rotated-1"}
    only_new = kek_file.read_text(encoding="utf-8").splitlines()[0]
    with override_settings(ENCRYPTION_KEKS=only_new):
        assert names_as_read_now() == sorted(NAMES)


def test_new_key_file_stays_private_when_a_stale_temporary_file_exists(people, kek_file):
    # A temporary file left by an interrupted run (or put there by someone else) must not
    # decide who can read the new key file.
    stale = kek_file.with_name(kek_file.name + ".new")
    stale.write_text("left over\n", encoding="utf-8")
    stale.chmod(0o644)

    with override_settings(
        ENCRYPTION_KEKS=settings.ENCRYPTION_KEKS, ENCRYPTION_KEKS_PATH=str(kek_file)
    ):
        call_command("rotate_keys", "--new-kek", "rotated-1", stdout=io.StringIO())

    assert stat.S_IMODE(kek_file.stat().st_mode) == 0o600


def test_new_kek_needs_a_key_file():
    with (
        override_settings(ENCRYPTION_KEKS_PATH=None),
        pytest.raises(CommandError, match="ENCRYPTION_KEKS_FILE"),
    ):
        call_command("rotate_keys", "--new-kek", "rotated-1", stdout=io.StringIO())


@pytest.mark.parametrize("kek_id", ["bad id", "x" * 33, "new/../key"])
def test_new_kek_id_must_be_valid(kek_file, kek_id):
    before = kek_file.read_bytes()

    with (
        override_settings(
            ENCRYPTION_KEKS=settings.ENCRYPTION_KEKS, ENCRYPTION_KEKS_PATH=str(kek_file)
        ),
        pytest.raises(CommandError),
    ):
        call_command("rotate_keys", "--new-kek", kek_id, stdout=io.StringIO())

    assert kek_file.read_bytes() == before


def test_new_kek_id_must_not_exist_already(kek_file, old_kek_id):
    before = kek_file.read_bytes()

    with (
        override_settings(
            ENCRYPTION_KEKS=settings.ENCRYPTION_KEKS, ENCRYPTION_KEKS_PATH=str(kek_file)
        ),
        pytest.raises(CommandError, match="already exists"),
    ):
        call_command("rotate_keys", "--new-kek", old_kek_id, stdout=io.StringIO())

    assert kek_file.read_bytes() == before


def test_new_kek_with_wrong_keys_leaves_the_key_file_alone(people, kek_file, old_kek_id):
    before = kek_file.read_bytes()

    with (
        override_settings(
            ENCRYPTION_KEKS=f"{old_kek_id}:{new_key_text()}", ENCRYPTION_KEKS_PATH=str(kek_file)
        ),
        pytest.raises(CommandError, match=repr(old_kek_id)),
    ):
        call_command("rotate_keys", "--new-kek", "rotated-1", stdout=io.StringIO())

    assert kek_file.read_bytes() == before
    assert set(live_kek_ids()) == {old_kek_id}
