"""Staff accounts. Roles are Django groups named after `Role`, created by a migration."""

from __future__ import annotations

import unicodedata
import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from accounts.roles import Role

username_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9._-]{2,63}$",
    "3 to 64 characters: lowercase letters, digits, dot, dash or underscore.",
)


def normalize_username(username: str) -> str:
    """One spelling per account, so `Alice` and `alice ` share one lockout counter."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra) -> User:
        user = self.model(username=normalize_username(username), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **extra) -> User:
        # No Django admin site and no superuser powers in the API: an "admin" is a role.
        raise NotImplementedError("Use `manage.py create_staff USERNAME --role admin`.")


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(max_length=64, unique=True, validators=[username_validator])
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Who created the account through the API (None: the server's command line). The creator
    # never approves the account's role grants: four eyes means two people who are not the
    # same admin twice over.
    created_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # When the account last stopped being an active admin (demoted or deactivated). An admin
    # who left within STAFF_FOUR_EYES_WINDOW_DAYS still counts towards the four-eyes rule, so
    # deactivating the only other admin does not leave one admin acting alone.
    admin_ended_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.username

    @classmethod
    def normalize_username(cls, username: str) -> str:
        return normalize_username(username)

    @property
    def roles(self) -> frozenset[str]:
        """The role names, read once per request (the user object is loaded per request)."""
        cached = getattr(self, "_roles", None)
        if cached is None:
            valid = set(Role.values)
            names = [group.name for group in self.groups.all()] if self.pk else []
            cached = frozenset(name for name in names if name in valid)
            self._roles = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return self.is_active and bool(self.roles.intersection(roles))
