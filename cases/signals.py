"""Hooks that let other apps act when a case ends or is erased, without `cases` importing them.

Both are sent inside the transaction of `case_transition` (to closed, rejected or withdrawn) and
`case_shred` (the erasure behind `case_erase`), with `case`, `actor` and `to` (the status moved
to; None for an erasure):

- `case_ending_locks`, BEFORE the case row is locked: receivers lock the rows of theirs that come
  before the case in their documented lock order (funds: allocations, then disbursements), so a
  payment or an approval racing the end neither deadlocks with it nor slips past it. Receivers
  only lock here: no audited write (it would take the audit chain's lock before the case's).
- `case_ending`, once the case (and, for an erasure, its people) is locked and the move is
  allowed, before the case is written: receivers refuse the end (raise a `DomainError`) or do
  what it means for their rows (funds cancels the requests waiting for approval).
"""

from __future__ import annotations

from django.dispatch import Signal

case_ending_locks = Signal()
case_ending = Signal()
