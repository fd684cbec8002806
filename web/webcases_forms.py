"""The forms of the case pages: they check the shape of what was typed. The rules a record must
meet (a phone that is a phone number, a date of birth between 1900 and today, a name or an
alias, money at its currency's precision) are the API's input serializers', run from `clean`
so that a page and the API refuse the same things; the services decide everything else."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers as drf

from cases.items_api import NeedInputSerializer
from cases.models import REFERENCE_PATTERN
from people.api import DuplicateQuerySerializer, PersonInputSerializer
from web import webcases_labels as labels
from web.forms import SafeForm
from web.stepup import FreshCodeField

PERSON_FIELDS = (
    "full_name",
    "preferred_name",
    "phone",
    "messenger",
    "date_of_birth",
    "document_type",
    "document_number",
    "nationality",
)
NOT_PRIMARY = [(code, label) for code, label in labels.RELATIONSHIP.items() if code != "primary"]


def _blank(choices: list) -> list:
    return [("", _("Choose…")), *choices]


def _apply(form: forms.Form, serializer: drf.Serializer) -> dict[str, Any]:
    """Run an API input serializer over the form's data; its errors become the form's."""
    if serializer.is_valid():
        return dict(serializer.validated_data)
    for name, problems in serializer.errors.items():
        field = name if name in form.fields else None
        for problem in problems if isinstance(problems, list) else [problems]:
            form.add_error(field, str(problem))
    return {}


def _without_blanks(data: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in data.items() if value not in ("", None, [])}


class PersonForm(SafeForm):
    """The caller (or a household member) as intake records them."""

    full_name = forms.CharField(label=_("Full name"), max_length=300, required=False)
    preferred_name = forms.CharField(
        label=_("Preferred name or alias"),
        max_length=300,
        required=False,
        help_text=_("A full name or a preferred name is needed; an alias will do."),
    )
    phone = forms.CharField(label=_("Phone"), max_length=64, required=False)
    messenger = forms.CharField(label=_("Messenger account"), max_length=300, required=False)
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    document_type = forms.ChoiceField(
        label=_("Document type"),
        choices=_blank(labels.choices(labels.DOCUMENT_TYPE)),
        required=False,
    )
    document_number = forms.CharField(label=_("Document number"), max_length=100, required=False)
    nationality = forms.CharField(label=_("Nationality"), max_length=100, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        values = _without_blanks({name: cleaned.get(name) for name in PERSON_FIELDS})
        values = {name: value for name, value in values.items() if name in self.fields}
        if "date_of_birth" in values:
            values["date_of_birth"] = values["date_of_birth"].isoformat()
        self.person_fields = _apply(self, PersonInputSerializer(data=values))
        return cleaned

    def duplicate_criteria(self) -> dict[str, str]:
        """What the duplicate check compares: phone, full name, document number (those given)."""
        names = ("phone", "full_name", "document_number")
        given = {name: self.cleaned_data[name] for name in names if self.cleaned_data.get(name)}
        checked = DuplicateQuerySerializer(data=given)
        return dict(checked.validated_data) if given and checked.is_valid() else {}


class CaseForm(SafeForm):
    """What opening a case records beside the person: risk, concerns, where and how to reach
    them, and their consent."""

    risk_level = forms.ChoiceField(
        label=_("Risk level"), choices=_blank(labels.choices(labels.RISK))
    )
    protection_concerns = forms.MultipleChoiceField(
        label=_("Protection concerns"),
        choices=labels.choices(labels.CONCERN),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    summary = forms.CharField(
        label=_("Summary"),
        max_length=20000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    location = forms.CharField(
        label=_("Where they are now"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    safe_contact = forms.CharField(
        label=_("How to reach them safely"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    consent_to_store = forms.BooleanField(
        label=_("They agree that we keep these records"), required=False
    )
    consent_to_share = forms.BooleanField(
        label=_("They agree that we share them with partners who help the evacuation"),
        required=False,
    )
    consent_given_on = forms.DateField(
        label=_("Consent given on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def case_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["protection_concerns"] = data["protection_concerns"] or None
        for name in ("summary", "location", "safe_contact"):
            data[name] = data[name] or None
        return data


class MemberForm(PersonForm):
    """Someone new on the household: who they are, how they are related, and why."""

    relationship = forms.ChoiceField(label=_("Relationship"), choices=_blank(NOT_PRIMARY))
    reason = forms.CharField(label=_("Reason"), max_length=5000, required=False)

    field_order = ["relationship", "full_name", "preferred_name", "date_of_birth", "reason"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # On the household form only the essentials: the rest goes on the person's page later.
        for name in ("phone", "messenger", "document_type", "document_number", "nationality"):
            del self.fields[name]


class RemoveMemberForm(SafeForm):
    reason = forms.CharField(label=_("Why they leave the household"), max_length=5000)


class NeedForm(SafeForm):
    category = forms.ChoiceField(
        label=_("Category"), choices=_blank(labels.choices(labels.NEED_CATEGORY))
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"), choices=labels.choices(labels.RISK), initial="medium"
    )
    estimated_cost = forms.DecimalField(label=_("Estimated cost"), required=False, min_value=0)
    currency = forms.CharField(
        label=_("Currency"),
        max_length=3,
        required=False,
        help_text=_("Its ISO code, e.g. EUR or RUB."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        values = _without_blanks(cleaned)
        if "estimated_cost" in values:
            values["estimated_cost"] = str(values["estimated_cost"])
        if "currency" in values:
            values["currency"] = values["currency"].upper()
        self.need_fields = _apply(self, NeedInputSerializer(data=values))
        return cleaned


class NeedUpdateForm(SafeForm):
    status = forms.ChoiceField(label=_("Status"), choices=labels.choices(labels.NEED_STATUS))
    urgency = forms.ChoiceField(label=_("Urgency"), choices=labels.choices(labels.RISK))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            self.need_fields = _apply(self, NeedInputSerializer(data=dict(cleaned), partial=True))
        return cleaned


class NoteForm(SafeForm):
    body = forms.CharField(
        label=_("New note"), max_length=20000, strip=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class TransitionForm(SafeForm):
    to = forms.ChoiceField(choices=labels.choices(labels.STATUS), widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=5000, required=False)


class AssignForm(SafeForm):
    caseworkers = forms.MultipleChoiceField(
        label=_("Caseworkers"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, directory: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["caseworkers"].choices = [
            (entry.username, entry.username) for entry in directory
        ]


class EraseForm(SafeForm):
    """Erasure: the case's reference typed in full (a slip of the mouse erases nothing) and a
    fresh code from the authenticator app (checked by the erase service, as the API's is)."""

    reference = forms.CharField(
        label=_("The case's reference, typed in full"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocapitalize": "characters"}),
    )
    otp = FreshCodeField(label=_("A current code from your authenticator app"), help_text="")

    def __init__(self, *args: Any, expected_reference: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected_reference = expected_reference

    def clean_reference(self) -> str:
        typed = "".join(self.cleaned_data["reference"].split()).upper()
        if not REFERENCE_PATTERN.fullmatch(typed) or typed != self.expected_reference:
            raise forms.ValidationError(_("This is not the reference of this case."))
        return typed
