"""Wrong or missing keys: the server does not become ready, refuses to start (naming the key
id, never the key), and writes nothing; key material never appears in an error."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings

from encryption.exceptions import EncryptionError, MissingKey
from encryption.keyring import keyring, new_key_text, parse_keks
from encryption.models import DataKey, KeySentinel
from encryption.sentinels import require_usable_keys
from people.models import Person
from people.services import person_update
from tests.encryption.helpers import reloaded, table_rows

ROOT = Path(__file__).resolve().parents[2]
KEY_TABLES = (DataKey, KeySentinel, Person)


def active_kek_id() -> str:
    return parse_keks(settings.ENCRYPTION_KEKS)[1]


def wrong_keys() -> dict[str, dict[str, str]]:
    """Configurations that cannot open what the current keys stored, by what is wrong."""
    kek_id, index_key = active_kek_id(), settings.ENCRYPTION_INDEX_KEY
    return {
        "missing KEK": {
            "ENCRYPTION_KEKS": f"other-kek:{new_key_text()}",
            "ENCRYPTION_INDEX_KEY": index_key,
        },
        "wrong KEK material": {
            "ENCRYPTION_KEKS": f"{kek_id}:{new_key_text()}",
            "ENCRYPTION_INDEX_KEY": index_key,
        },
        "wrong index key": {
            "ENCRYPTION_KEKS": settings.ENCRYPTION_KEKS,
            "ENCRYPTION_INDEX_KEY": new_key_text(),
        },
    }


def expected_complaint(case: str) -> str:
    """What the refusal must name: the KEK's id, or the index key (beyond the usual hint to
    check ENCRYPTION_KEKS and ENCRYPTION_INDEX_KEY)."""
    return "ENCRYPTION_INDEX_KEY is not" if case == "wrong index key" else repr(active_kek_id())


def key_material(keys: dict[str, str]) -> list[str]:
    """The base64 keys in a configuration, without their ids."""
    keks = [entry.partition(":")[2] for entry in keys["ENCRYPTION_KEKS"].split(",")]
    return [*keks, keys["ENCRYPTION_INDEX_KEY"]]


def snapshot() -> list[list[tuple]]:
    return [table_rows(model) for model in KEY_TABLES]


# -- the keyring ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "keks",
    [
        "",
        "no-colon-here",
        "bad id!:" + new_key_text(),
        "k1:not base64 at all",
        "k1:" + base64.b64encode(secrets.token_bytes(31)).decode(),
        f"k1:{new_key_text()},k1:{new_key_text()}",
    ],
)
def test_malformed_keks_are_refused_without_repeating_the_key(keks):
    with override_settings(ENCRYPTION_KEKS=keks), pytest.raises(ImproperlyConfigured) as refused:
        keyring()

    for entry in keks.split(","):
        secret = entry.partition(":")[2]
        if len(secret) > 8:
            assert secret not in str(refused.value)


def test_index_key_equal_to_a_kek_is_refused():
    key = new_key_text()

    with (
        override_settings(ENCRYPTION_KEKS=f"k1:{key}", ENCRYPTION_INDEX_KEY=key),
        pytest.raises(ImproperlyConfigured, match="must differ"),
    ):
        keyring()


def test_keyring_and_missing_key_errors_show_ids_never_keys():
    key = new_key_text()

    with override_settings(ENCRYPTION_KEKS=f"new:{key},{settings.ENCRYPTION_KEKS}"):
        ring = keyring()
        with pytest.raises(MissingKey) as missing:
            ring.kek("absent")

    shown = repr(ring) + str(ring) + str(missing.value)
    assert "new" in repr(ring)
    assert "'absent'" in str(missing.value)
    for material in (
        key,
        settings.ENCRYPTION_KEKS.partition(":")[2],
        settings.ENCRYPTION_INDEX_KEY,
    ):
        assert material not in shown
        assert repr(base64.b64decode(material)) not in shown


# -- in process: /readyz and writes -----------------------------------------------------------


@pytest.mark.django_db
def test_readyz_is_ok_with_the_right_keys(client, new_person):
    new_person(full_name="Kept Safe")

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["encryption_keys"] == "ok"


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["missing KEK", "wrong KEK material", "wrong index key"])
def test_readyz_fails_and_names_the_key_when_keys_are_wrong(client, new_person, case):
    new_person(full_name="Kept Safe", phone="+7 928 000-00-00")
    before = snapshot()
    keys = wrong_keys()[case]

    with override_settings(**keys):
        response = client.get("/readyz")
        client.get("/readyz")  # asking again must not "repair" anything either

    assert response.status_code == 503
    problem = response.json()["checks"]["encryption_keys"]
    assert expected_complaint(case) in problem
    for material in key_material(keys):
        assert material not in response.content.decode()
    assert snapshot() == before


@pytest.mark.django_db
def test_readyz_fails_when_the_keks_cannot_be_read(client, new_person):
    new_person(full_name="Kept Safe")
    garbage = "k1:" + base64.b64encode(secrets.token_bytes(20)).decode()

    with override_settings(ENCRYPTION_KEKS=garbage):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert "ENCRYPTION_KEKS" in response.json()["checks"]["encryption_keys"]
    assert garbage.partition(":")[2] not in response.content.decode()


@pytest.mark.django_db
def test_wrong_kek_is_detected_even_when_the_sentinels_are_gone(new_person):
    # A database restored without its sentinels: the stored data keys still give it away.
    new_person(full_name="Kept Safe")
    KeySentinel.objects.all().delete()

    with (
        override_settings(**wrong_keys()["wrong KEK material"]),
        pytest.raises(ImproperlyConfigured, match=repr(active_kek_id())),
    ):
        require_usable_keys()

    assert not KeySentinel.objects.exists()


@pytest.mark.django_db
def test_a_wrong_kek_never_wraps_a_new_data_key(new_person):
    person = new_person(full_name="Kept Safe")
    before = snapshot()

    with (
        override_settings(**wrong_keys()["wrong KEK material"]),
        pytest.raises(EncryptionError, match=repr(active_kek_id())),
    ):
        new_person(full_name="Written Under The Wrong Key")

    assert snapshot() == before
    assert reloaded(person).full_name == "Kept Safe"


@pytest.mark.django_db
def test_a_wrong_index_key_never_writes_an_index(new_person):
    # Like a wrong KEK, a wrong index key must not write: indexes made with it match nothing,
    # and a correction would replace a person's good indexes with useless ones.
    person = new_person(full_name="Kept Safe", phone="+7 928 000-00-00")
    before = snapshot()

    with override_settings(**wrong_keys()["wrong index key"]):
        with pytest.raises(EncryptionError, match="ENCRYPTION_INDEX_KEY"):
            person_update(person=person, phone="+7 928 000-00-01")
        with pytest.raises(EncryptionError, match="ENCRYPTION_INDEX_KEY"):
            new_person(full_name="Indexed Under The Wrong Key")

    assert snapshot() == before


@pytest.mark.django_db
def test_stored_data_does_not_open_without_its_kek(new_person):
    person = new_person(full_name="Kept Safe")

    with override_settings(**wrong_keys()["missing KEK"]), pytest.raises(MissingKey):
        _ = reloaded(person).full_name


# -- out of process: the server refuses to start ----------------------------------------------


def database_url() -> str:
    """The test database, for another process (a file on SQLite, a name on PostgreSQL)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_server(
    keys: dict[str, str], entry_point: str = "config.wsgi"
) -> subprocess.CompletedProcess:
    """Load the application, as gunicorn (WSGI) or an ASGI server does, with these keys and the
    test database."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "DATABASE_", "ENCRYPTION_"))
    }
    return subprocess.run(
        [sys.executable, "-c", f"import {entry_point}"],
        cwd=ROOT,
        env={
            **inherited,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url(),
            **keys,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def committed_person(new_person) -> Person:
    return new_person(full_name="Kept Safe", phone="+7 928 000-00-00")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", ["missing KEK", "wrong KEK material", "wrong index key"])
def test_server_refuses_to_start_with_wrong_keys(committed_person, case):
    before = snapshot()
    keys = wrong_keys()[case]

    result = start_server(keys)

    assert result.returncode != 0
    assert "Refusing to start" in result.stderr
    assert expected_complaint(case) in result.stderr
    for material in key_material(keys):
        assert material not in result.stderr + result.stdout
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_asgi_server_refuses_to_start_without_its_kek(committed_person):
    result = start_server(wrong_keys()["missing KEK"], entry_point="config.asgi")

    assert result.returncode != 0
    assert repr(active_kek_id()) in result.stderr


@pytest.mark.django_db(transaction=True)
def test_server_starts_with_the_right_keys(committed_person):
    result = start_server(
        {
            "ENCRYPTION_KEKS": settings.ENCRYPTION_KEKS,
            "ENCRYPTION_INDEX_KEY": settings.ENCRYPTION_INDEX_KEY,
        }
    )

    assert result.returncode == 0, result.stderr[-2000:]
