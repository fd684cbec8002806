"""Signals that let other apps react to staff changes without `accounts` importing them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the transaction that takes a right away from a staff member (deactivation, a
# second-factor reset, a role removed), once their row is locked exclusively, so receivers can
# undo in the same transaction what the lost right still holds open (funds voids the person's
# standing approvals). Keyword arguments: `user`, `reason` (a short code: "deactivated",
# "second_factor_reset", "roles_removed") and `roles_removed` (role names; empty unless roles
# were taken away). Receivers lock what they change in the documented order after the staff row.
staff_rights_reduced = Signal()
