"""`POST audit/verify/` checks the log against checkpoints an auditor kept outside the system,
with the configured public key, and says what its answer rests on; `GET audit/checkpoints/`
gives the key; `audit_checkpoint --out DIR` writes the checkpoints as files to copy off.

The DBA scenario: the database's owner deletes the last entries, rewinds the chain head to the
last one left and deletes the stored checkpoints. The chain alone cannot tell (`"chain only"`,
never a plain ok); the checkpoint the auditor kept catches it through the API.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import override_settings

from accounts.roles import Role
from audit.models import Checkpoint, LogEntry
from config.settings import new_ed25519_pem
from tests.audit.helpers import delete_entries, owner_without_triggers

pytestmark = pytest.mark.django_db

VERIFY = "/api/v1/audit/verify/"
CHECKPOINTS = "/api/v1/audit/checkpoints/"


@pytest.fixture
def auditor(make_staff, client_for):
    return client_for(make_staff(Role.AUDITOR))


def checkpoint_now() -> dict:
    out = io.StringIO()
    call_command("audit_checkpoint", stdout=out)
    return json.loads(out.getvalue())


def kept_by_the_auditor(auditor) -> dict:
    """What an auditor does: read the latest checkpoint's document and keep it elsewhere."""
    return auditor.get(CHECKPOINTS).json()["results"][0]["document"]


def cut_the_tail_as_the_owner(keep_up_to: int) -> None:
    last = LogEntry.objects.get(sequence=keep_up_to)
    with owner_without_triggers() as cursor:
        delete_entries(cursor, "sequence > %s", [keep_up_to])
        cursor.execute(
            "UPDATE audit_chainhead SET sequence = %s, prev_hash = %s, entry_hash = %s",
            [last.sequence, last.prev_hash, last.entry_hash],
        )
        cursor.execute("DELETE FROM audit_checkpoint")


def test_the_dba_cutting_the_log_is_caught_only_by_a_checkpoint_kept_outside(auditor, make_staff):
    # Given a checkpoint the auditor took and kept, and entries written after it
    checkpoint_now()
    kept = kept_by_the_auditor(auditor)
    cut_below = kept["sequence"] - 3
    for _ in range(2):
        make_staff()
    before = auditor.post(VERIFY).json()

    # When the owner cuts the last entries, rewinds the head and deletes the stored checkpoints
    cut_the_tail_as_the_owner(keep_up_to=cut_below)
    chain_only = auditor.post(VERIFY).json()
    against_kept = auditor.post(VERIFY, {"checkpoints": [kept]}).json()

    # Then the chain alone passes, and says it is the chain alone; the kept checkpoint does not
    assert (before["ok"], before["verified_against"]) == (True, "chain only")
    assert [c["source"] for c in before["checkpoints"]] == ["database"]
    assert (chain_only["ok"], chain_only["verified_against"]) == (True, "chain only")
    assert chain_only["checkpoints"] == []
    assert "chain only" in chain_only["note"].lower()
    assert chain_only["head"]["sequence"] == cut_below
    assert against_kept["ok"] is False
    assert against_kept["verified_against"] == "checkpoints kept outside"
    assert against_kept["first_break"]["sequence"] == kept["sequence"]
    assert "truncated" in against_kept["first_break"]["problem"]
    (used,) = against_kept["checkpoints"]
    assert (used["source"], used["holds"], used["sequence"]) == ("request", False, kept["sequence"])


def test_an_intact_log_holds_against_the_checkpoints_kept(auditor, make_staff):
    checkpoint_now()
    first = kept_by_the_auditor(auditor)
    make_staff()
    checkpoint_now()
    second = kept_by_the_auditor(auditor)
    make_staff()

    body = auditor.post(VERIFY, {"checkpoints": [first, second]}).json()

    assert (body["ok"], body["verified_against"]) == (True, "checkpoints kept outside")
    assert [(c["source"], c["holds"]) for c in body["checkpoints"]] == [
        ("request", True),
        ("request", True),
        ("database", True),
        ("database", True),
    ]
    assert f"sequence {second['sequence']}" in body["note"]
    assert body["entries"] == LogEntry.objects.count()


def test_a_checkpoint_signed_by_another_key_or_edited_does_not_hold(auditor):
    kept = checkpoint_now()
    edited = {**kept, "entry_hash": "0" * 64}
    with override_settings(AUDIT_SIGNING_KEY=new_ed25519_pem()):
        foreign = checkpoint_now()

    for document in (edited, foreign):
        body = auditor.post(VERIFY, {"checkpoints": [document]}).json()
        assert body["ok"] is False
        assert "bad signature" in body["first_break"]["problem"]
        assert body["checkpoints"][0]["holds"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"checkpoints": "all of them"},
        {"checkpoints": [{"sequence": 1}]},
        {"checkpoints": [{"format": "other/1"}]},
        {"checkpoint": []},
        {"checkpoints": [None]},
    ],
)
def test_a_malformed_verify_body_is_a_400(auditor, body):
    response = auditor.post(VERIFY, body)

    assert response.status_code == 400


def test_a_document_with_an_extra_field_is_refused(auditor):
    kept = checkpoint_now()

    response = auditor.post(VERIFY, {"checkpoints": [{**kept, "id": 1}]})

    assert response.status_code == 400


def test_without_a_public_key_checkpoints_sent_cannot_be_checked(auditor, settings):
    kept = checkpoint_now()
    settings.AUDIT_SIGNING_KEY = None
    settings.AUDIT_CHECKPOINT_PUBLIC_KEY = None

    sent = auditor.post(VERIFY, {"checkpoints": [kept]})
    alone = auditor.post(VERIFY).json()

    assert sent.status_code == 409
    assert sent.json()["code"] == "no_public_key"
    assert (alone["ok"], alone["verified_against"]) == (True, "chain only")
    assert alone["checkpoints"][0]["problem"].startswith("not checked")
    assert auditor.get(CHECKPOINTS).json()["public_key"] is None


def test_the_public_key_given_is_the_one_that_verifies(auditor):
    checkpoint_now()
    body = auditor.get(CHECKPOINTS).json()
    out = io.StringIO()
    call_command("audit_checkpoint", "--public-key", stdout=out)

    assert body["public_key"] == out.getvalue()
    assert body["results"][0]["document"]["key_id"] == body["key_id"]


def test_audit_checkpoint_out_writes_each_checkpoint_as_a_file(tmp_path, make_staff):
    checkpoint_now()
    make_staff()
    call_command("audit_checkpoint", "--out", str(tmp_path), stdout=io.StringIO())
    call_command(
        "audit_checkpoint", "--out", str(tmp_path), stdout=io.StringIO(), stderr=io.StringIO()
    )

    files = sorted(tmp_path.glob("checkpoint-*.json"))
    assert len(files) == Checkpoint.objects.count() == 3
    documents = [json.loads(path.read_text()) for path in files]
    assert [d["sequence"] for d in documents] == sorted(
        Checkpoint.objects.values_list("sequence", flat=True)
    )
    # Each is the signed document itself: audit_verify accepts it as it is.
    out = io.StringIO()
    call_command("audit_verify", "--checkpoint", str(files[0]), stdout=out)
    assert "Verified against: checkpoints kept outside" in out.getvalue()


def test_audit_verify_says_when_it_checked_the_chain_only(make_staff):
    make_staff()
    out = io.StringIO()

    call_command("audit_verify", stdout=out)

    assert "Verified against: chain only" in out.getvalue()
