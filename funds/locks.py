"""Every row lock the funds services take, and the one order they are taken in:

    acting staff member (shared) → source → allocation → disbursement → case

A transaction takes the locks it needs in that order, and all of them before its first audited
write (that write holds the audit chain's lock until commit, so a lock taken after it could wait
on a transaction that waits on the chain). Two transactions touching the same money therefore
queue behind each other instead of deadlocking. Several rows of one kind are locked in primary
key order.

The staff member's own row comes first: `accounts` locks it exclusively before it takes a right
away (deactivation, a second-factor reset, a role removed) and then voids what the right still
holds open, so an approval or a payment, holding it shared, either commits before that or sees
the right gone.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from cases.models import Case
from common.exceptions import Forbidden, InvariantViolation
from funds.models import Allocation, Disbursement, FundingSource

OPEN_STATUSES = (Disbursement.Status.REQUESTED, Disbursement.Status.APPROVED)


def lock_actor(user: User, *, role: str = Role.COORDINATOR) -> User:
    """Hold the acting staff member's row with a shared lock for the rest of the transaction and
    re-read it: a 403 unless they are still active and hold `role`.

    PostgreSQL: `FOR SHARE` (the ORM offers only exclusive row locks: `select_for_update`, with
    `no_key` FOR NO KEY UPDATE), which conflicts with the `FOR UPDATE` taken by the services that
    take a right away, and not with other approvals. SQLite serialises writing transactions
    (BEGIN IMMEDIATE), so reading the row is enough there."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(User._meta.db_table)
        column = connection.ops.quote_name(User._meta.pk.column)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {table} WHERE {column} = %s FOR SHARE", [user.pk])  # noqa: S608
    fresh = User.objects.get(pk=user.pk)  # roles are read again, after the lock
    if not fresh.has_role(role):
        raise Forbidden(
            _("You are no longer an active %(role)s, so this was not carried out.") % {"role": role}
        )
    return fresh


def lock_source(source: FundingSource) -> FundingSource:
    return FundingSource.objects.select_for_update().get(pk=source.pk)


def lock_allocation(allocation_id: Any) -> Allocation:
    return (
        Allocation.objects.select_related("source")
        .select_for_update(of=("self",))
        .get(pk=allocation_id)
    )


def lock_disbursement(disbursement: Disbursement) -> tuple[Allocation, Disbursement]:
    """The disbursement's allocation, then the disbursement itself."""
    allocation = lock_allocation(disbursement.allocation_id)
    disbursement = Disbursement.objects.select_for_update().get(pk=disbursement.pk)
    disbursement.allocation = allocation
    return allocation, disbursement


def lock_case(case_id: Any, *, erased_ok: bool = False) -> Case:
    """Lock the case against a concurrent erasure or end for the rest of the transaction, and
    refuse money movements on an erased case (its key, which would seal the payee, is gone)
    unless `erased_ok` (releasing money, or recording a payment already made, needs no key)."""
    case = Case.objects.select_related("data_key").select_for_update(no_key=True).get(pk=case_id)
    if case.erased and not erased_ok:
        raise InvariantViolation(
            _("Case %(reference)s was erased; no new money can be committed or moved for it.")
            % {"reference": case.reference}
        )
    return case


def lock_money_of_case(case_id: Any) -> list[Disbursement]:
    """Before a case is ended or erased: lock its allocations, then its open disbursements (in
    the order above, ahead of the case itself), and return those disbursements. A request or an
    approval racing the end waits here, or has committed and is seen."""
    allocation_ids = list(
        Allocation.objects.filter(case_id=case_id).order_by("pk").values_list("pk", flat=True)
    )
    if not allocation_ids:
        return []
    list(
        Allocation.objects.filter(pk__in=allocation_ids)
        .order_by("pk")
        .select_for_update()
        .values_list("pk", flat=True)
    )
    return list(
        Disbursement.objects.filter(Q(allocation_id__in=allocation_ids), status__in=OPEN_STATUSES)
        .select_related("allocation__source")
        .order_by("pk")
        .select_for_update(of=("self",))
    )
