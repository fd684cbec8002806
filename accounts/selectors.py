"""Reads of staff accounts."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User


def staff_list() -> QuerySet[User]:
    return User.objects.prefetch_related("groups").order_by("username")
