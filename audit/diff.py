"""django-auditlog's change detection, taught not to decrypt.

To find what a save changed, django-auditlog reads every field of the old and the new instance.
For an encrypted field that read opens the value: twice per field per save, and an error for a
record whose key was destroyed by an erasure (where any later save of the row, even of its
status, would then fail). A field that offers `audit_token(instance)` (the encrypted fields do)
is compared by that token instead: a digest of its stored bytes. The log never records the
values of such fields anyway (`audit.registry` redacts them), only that they changed.

django-auditlog has no setting for this, so its one value reader is wrapped, once, at start-up.
"""

from __future__ import annotations

from typing import Any

from auditlog import diff

_WRAPPED = "_safe_passage_wrapped"


def compare_sealed_values_unopened() -> None:
    original = diff.get_field_value
    if getattr(original, _WRAPPED, False):
        return

    def get_field_value(obj: Any, field: Any, use_json_for_changes: bool = False) -> Any:
        if obj is not None and hasattr(field, "audit_token"):
            return field.audit_token(obj)
        return original(obj, field, use_json_for_changes)

    setattr(get_field_value, _WRAPPED, True)
    diff.get_field_value = get_field_value
