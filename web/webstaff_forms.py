"""The forms of the staff and account pages: they check shape, the accounts services decide.

Every admin write carries a fresh code (`web.stepup.FreshCodeField`), as the API's `otp`.
Several of these forms share one page, so each is given a prefix there (ids stay unique).
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from web.forms import SafeForm
from web.pages import ROLE_LABELS
from web.stepup import FreshCodeField

PASSWORD_MAX_LENGTH = 1024


def role_choices() -> list[tuple[str, object]]:
    return [(role, ROLE_LABELS[role]) for role in Role.values]


class RolesField(forms.MultipleChoiceField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", _("Roles"))
        super().__init__(choices=role_choices, widget=forms.CheckboxSelectMultiple, **kwargs)


class FreshCodeForm(SafeForm):
    """Only the fresh code: deactivate, reactivate, end every session, reset a second factor,
    approve a change."""

    otp = FreshCodeField()


class StaffCreateForm(SafeForm):
    username = forms.CharField(
        label=_("Username"),
        max_length=64,
        help_text=_(
            "3 to 64 characters: lowercase letters, digits, dot, dash or underscore. Not the "
            "person's real name."
        ),
        widget=forms.TextInput(attrs={"autocapitalize": "none"}),
    )
    roles = RolesField()
    otp = FreshCodeField()


class RolesForm(SafeForm):
    roles = RolesField(
        help_text=_(
            "The full new set. Caseworker, coordinator and administrator wait for a second "
            "administrator's approval; removing a role applies at once."
        )
    )
    otp = FreshCodeField()


class UnlockForm(SafeForm):
    addresses = forms.BooleanField(
        label=_("Also free the addresses this account was tried from"),
        help_text=_(
            "For colleagues behind the same office address. Leave it off if the failures "
            "may have been an attack."
        ),
        required=False,
    )
    otp = FreshCodeField()


class RejectForm(SafeForm):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        max_length=2000,
        required=False,
        widget=forms.TextInput(),
    )
    otp = FreshCodeField()


class PasswordChangeForm(SafeForm):
    current_password = forms.CharField(
        label=_("Current password"),
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(),
    )
    new_password = forms.CharField(
        label=_("New password"),
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        help_text=_("At least 12 characters, not a common one."),
        widget=forms.PasswordInput(),
    )
    new_password_again = forms.CharField(
        label=_("New password again"),
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(),
    )
    otp = FreshCodeField()

    def clean(self) -> dict:
        data = super().clean()
        if data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("The two new passwords are not the same."))
        return data


class EnrolForm(SafeForm):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocapitalize": "none"}),
    )
    code = forms.CharField(
        label=_("Enrolment code"),
        max_length=64,
        help_text=_("The code an administrator gave you, for example ABCD-EFGH-JKLM-NPQR."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        help_text=_(
            "A new account: the password you choose (at least 12 characters, not a common "
            "one). After a reset: your current password."
        ),
        widget=forms.PasswordInput(),
    )


class EnrolConfirmForm(SafeForm):
    username = forms.CharField(max_length=150, widget=forms.HiddenInput())
    code = forms.CharField(max_length=64, widget=forms.HiddenInput())
    password = forms.CharField(
        label=_("Your password again"),
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(),
    )
    otp = FreshCodeField(help_text=_("The six digits the app now shows for Safe Passage."))
