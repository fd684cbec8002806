"""Eight writers at once: the chain stays one line, with no fork and no gap."""

from __future__ import annotations

import pytest
from django.db import transaction

from accounts.models import BackupCode, BackupCodeDevice
from audit.models import LogEntry
from audit.verify import verify_chain
from tests.concurrency import run_at_once

WRITERS = 8
WRITES_EACH = 15


@pytest.mark.django_db(transaction=True)
def test_concurrent_audited_writes_form_one_unbroken_chain(make_staff):
    device = BackupCodeDevice.objects.get(user=make_staff().user)
    before = LogEntry.objects.count()

    def writer(n: int):
        def write() -> None:
            for i in range(WRITES_EACH):
                with transaction.atomic():
                    BackupCode.objects.create(device=device, digest=f"w{n:02d}{i:03d}")

        return write

    run_at_once(*(writer(n) for n in range(WRITERS)))

    entries = list(LogEntry.objects.order_by("sequence").values_list("sequence", "prev_hash"))
    assert len(entries) == before + WRITERS * WRITES_EACH
    assert [sequence for sequence, _ in entries] == list(range(1, len(entries) + 1))
    assert len({prev for _, prev in entries}) == len(entries)  # no two entries share a parent
    result = verify_chain()
    assert result.ok, result.first_break
    assert result.entries == len(entries)
