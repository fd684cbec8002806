"""Signals that let other apps react to staff changes without `accounts` importing them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the transaction that takes a right away from a staff member (deactivation, a
# second-factor reset, a role removed), once their row is locked exclusively and before the
# transaction's first audited write, so receivers can undo in the same transaction what the lost
# right still holds open (funds voids the person's standing approvals). Before the first audited
# write, because that write holds the audit chain's lock to commit: receivers lock their rows in
# their documented order after the staff row, and a transaction holding one of those rows while
# it waits for the chain (an approval) would otherwise deadlock with this one. Keyword arguments:
# `user`, `reason` (a short code: "deactivated", "second_factor_reset", "roles_removed") and
# `roles_removed` (role names; empty unless roles were taken away).
staff_rights_reduced = Signal()
