"""What a duplicate check leaves in the audit log about the values it searched for: per
criterion, a keyed digest of the normalised value under the day's look-up key
(encryption/lookups.py), so that someone holding the keys can later test whether a given phone,
name or document number was looked up (`manage.py audit_lookups`), and a dump alone says
nothing."""

from __future__ import annotations

from encryption.blind_index import NORMALIZERS
from encryption.lookups import lookup_digest
from encryption.models import LookupKey
from people.models import Person
from people.selectors import MATCH_FIELDS

LABELS = {
    "phone": "person.phone",
    "full_name": "person.full_name",
    "document_number": "person.document_number",
}


def normalized(criterion: str, value: str) -> str | None:
    """The value as the duplicate check compares it (E.164, case-folded name, ...), or None
    when nothing is left of it (ValueError for a phone that is no phone number)."""
    field = Person._meta.get_field(MATCH_FIELDS[criterion])
    return NORMALIZERS[field.normalizer](value) or None


def lookup_digests(criteria: dict[str, str], key: LookupKey) -> dict[str, str]:
    """{criterion: hex digest} of the normalised values under `key`."""
    digests = {}
    for criterion, value in criteria.items():
        text = normalized(criterion, value)
        if text:
            digests[criterion] = lookup_digest(key, LABELS[criterion], text)
    return digests
