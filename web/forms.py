"""Forms check the shape of what was typed; services decide everything else.

`SafeForm` is the base of every web form: each field is rendered with `autocomplete="off"`
(the browser keeps no history of what was typed: a seized laptop's form history must not
hold a name, a phone or a code) and `spellcheck="false"` (a browser's cloud spellchecker would
send the text to a third party), unless the field's widget says otherwise on purpose.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User, normalize_username
from accounts.second_factor import MAX_CODE_LENGTH

PRIVATE_INPUT_ATTRS = {"autocomplete": "off", "spellcheck": "false"}


class SafeForm(forms.Form):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            for name, value in PRIVATE_INPUT_ATTRS.items():
                field.widget.attrs.setdefault(name, value)


class SignInForm(SafeForm):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(),
    )
    otp = forms.CharField(
        label=_("Authenticator code or backup code"),
        help_text=_("The six digits your authenticator app shows now, or one unused backup code."),
        max_length=MAX_CODE_LENGTH,
        widget=forms.TextInput(attrs={"autocapitalize": "none", "inputmode": "text"}),
    )

    def clean_username(self) -> str:
        value = self.cleaned_data["username"]
        # As the API does: normalisation can lengthen text, and no account name is longer
        # than the column, so a longer one never reaches the lockout bookkeeping.
        if len(normalize_username(value)) > User._meta.get_field("username").max_length:
            raise forms.ValidationError(_("No username is this long."))
        return value
