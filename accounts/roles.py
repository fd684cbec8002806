"""The four staff roles. A staff member may hold several; permissions are their union."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    CASEWORKER = "caseworker"
    COORDINATOR = "coordinator"
    AUDITOR = "auditor"
    ADMIN = "admin"
