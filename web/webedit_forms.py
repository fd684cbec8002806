"""The forms of the edit pages: a case's details and a person's record, corrected.

They check the shape of what was typed by running the API's own input serializers for
`PATCH cases/{id}/` and `PATCH people/{id}/` (cases.api.CaseUpdateInputSerializer,
people.api.PersonInputSerializer) from `clean`, so a page and the API refuse the same things;
the services (cases.services.case_update, people.services.person_update) decide the rest.
Every field is sent, so a field left empty is cleared (None), as a PATCH naming it with null.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.api import CaseUpdateInputSerializer
from people.api import PersonInputSerializer
from web.webcases_forms import PERSON_FIELDS, CaseForm, PersonForm, _apply

CASE_EDIT_FIELDS = (
    "risk_level",
    "protection_concerns",
    "summary",
    "location",
    "safe_contact",
    "consent_to_store",
    "consent_to_share",
    "consent_given_on",
)
PERSON_EDIT_FIELDS = (*PERSON_FIELDS, "languages", "notes")


class CaseEditForm(CaseForm):
    """A case's details as PATCH cases/{id}/ takes them, the household aside (that changes one
    person at a time on the case page). `update_fields` holds the serializer's validated data
    after a valid `is_valid()`: {field name: value}, blanks as None."""

    def __init__(self, *args: Any, case: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        self.update_fields: dict[str, Any] = {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        values = {name: cleaned.get(name) for name in CASE_EDIT_FIELDS}
        values["protection_concerns"] = values["protection_concerns"] or None
        for name in ("summary", "location", "safe_contact"):
            values[name] = values[name] or None
        if values["consent_given_on"] is not None:
            values["consent_given_on"] = values["consent_given_on"].isoformat()
        serializer = CaseUpdateInputSerializer(self.case, data=values, partial=True)
        self.update_fields = _apply(self, serializer)
        return cleaned


class PersonEditForm(PersonForm):
    """A person's record as PATCH people/{id}/ takes it. `update_fields` holds the serializer's
    validated data after a valid `is_valid()`: {field name: value}, blanks as None."""

    languages = forms.CharField(
        label=_("Languages"),
        max_length=1300,
        required=False,
        help_text=_("Separate them with commas."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        max_length=20000,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, person: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.person = person
        self.update_fields: dict[str, Any] = {}

    def clean(self) -> dict[str, Any]:
        cleaned = forms.Form.clean(self)  # not PersonForm's: an edit sends blanks as None
        if self.errors:
            return cleaned
        values: dict[str, Any] = {name: cleaned.get(name) or None for name in PERSON_EDIT_FIELDS}
        if values["date_of_birth"] is not None:
            values["date_of_birth"] = values["date_of_birth"].isoformat()
        if values["languages"] is not None:
            given = [part.strip() for part in values["languages"].split(",")]
            values["languages"] = [part for part in given if part] or None
        serializer = PersonInputSerializer(self.person, data=values, partial=True)
        self.update_fields = _apply(self, serializer)
        return cleaned
