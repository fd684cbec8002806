"""The money pages' forms. They check the shape of what was typed with the project's one set
of money rules (`common.money`: a legal-tender currency, a decimal amount within its
currency's precision, a rate); every other rule (allocations, reservations, rate checks, who
may approve) is the funds services' to decide, as for the API."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from common.datetimes import parse_client_datetime
from common.money import is_currency, parse_amount, parse_rate
from funds.models import Disbursement
from funds.services.disbursements import Terms
from web.forms import PRIVATE_INPUT_ATTRS, SafeForm
from web.stepup import FreshCodeField
from web.webmoney_labels import CATEGORY, METHOD, SOURCE_KIND


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class AmountField(forms.CharField):
    """A positive decimal amount (`common.money.parse_amount`); its currency's precision is
    checked by the form, where the currency is known."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Decimal | None:
        text = super().clean(value)
        if not text:
            return None
        try:
            return parse_amount(text, None)
        except ValueError as problem:
            raise forms.ValidationError(str(problem)) from None


class RateField(AmountField):
    def clean(self, value: Any) -> Decimal | None:
        text = forms.CharField.clean(self, value)
        if not text:
            return None
        try:
            return parse_rate(text)
        except ValueError as problem:
            raise forms.ValidationError(str(problem)) from None


class CurrencyField(forms.CharField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("help_text", _("The ISO 4217 code of a current currency, e.g. EUR."))
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"autocapitalize": "characters", "size": "4"})
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        code = super().clean(value).strip().upper()
        if not is_currency(code):
            raise forms.ValidationError(_("Use the ISO 4217 code of a current currency, e.g. EUR."))
        return code


def _check_precision(form: forms.Form, field: str, currency: str | None) -> None:
    amount = form.cleaned_data.get(field)
    if amount is None or not currency:
        return
    try:
        parse_amount(str(amount), currency)
    except ValueError as problem:
        form.add_error(field, str(problem))


def _private(field: forms.Field) -> forms.Field:
    """A field added after SafeForm's own set-up keeps nothing typed either."""
    for name, value in PRIVATE_INPUT_ATTRS.items():
        field.widget.attrs.setdefault(name, value)
    return field


def _choices(labels: dict) -> list[tuple[str, Any]]:
    return list(labels.items())


class TermsForm(SafeForm):
    """A request's terms: what an approver agrees to."""

    amount = AmountField(label=_("Amount"))
    currency = CurrencyField(label=_("Currency paid"))
    exchange_rate = RateField(
        label=_("Exchange rate"),
        required=False,
        help_text=_(
            "Only when paying in another currency than the source's: how many units of the "
            "source's currency one unit paid costs."
        ),
    )
    rate_source = forms.CharField(
        label=_("Where the rate comes from"),
        required=False,
        max_length=200,
        help_text=_("Only with an exchange rate, e.g. the exchange office's board."),
    )
    rate_date = forms.DateField(label=_("Date of the rate"), required=False, widget=DateInput())
    purpose = forms.CharField(label=_("Purpose"), max_length=500)
    method = forms.ChoiceField(label=_("Payment method"), choices=_choices(METHOD))
    payee = forms.CharField(
        label=_("Payee"),
        max_length=500,
        help_text=_("Who receives the money, and how to reach them for it."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        _check_precision(self, "amount", data.get("currency"))
        return data

    def terms(self) -> Terms:
        data = self.cleaned_data
        return Terms(
            amount=data["amount"],
            currency=data["currency"],
            purpose=data["purpose"],
            method=data["method"],
            payee=data["payee"],
            exchange_rate=data.get("exchange_rate"),
            rate_source=data.get("rate_source") or "",
            rate_date=data.get("rate_date"),
        )

    @staticmethod
    def initial_from(item: Disbursement) -> dict[str, Any]:
        """The terms on file, but the payee: sealed, it comes through the disclosure layer."""
        return {
            name: getattr(item, name)
            for name in (
                "amount",
                "currency",
                "exchange_rate",
                "rate_source",
                "rate_date",
                "purpose",
                "method",
            )
        }


class RequestForm(TermsForm):
    """A new request: the allocation it draws on, then its terms."""

    field_order = ["allocation"]

    def __init__(self, *args, allocations: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["allocation"] = _private(
            forms.ChoiceField(
                label=_("Allocation"),
                choices=[("", _("Choose an allocation")), *allocations],
                help_text=_("A case's money for one category, from one source."),
            )
        )
        self.order_fields(["allocation"])


class TermsVersionField(forms.Field):
    """The request's `updated_at` as the page showed it (hidden): the approval is refused if
    the request changed since, so nobody approves terms they were not shown."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("error_messages", {"required": _("Open the request again.")})
        super().__init__(**kwargs)

    def to_python(self, value: object) -> datetime.datetime | None:
        if value in self.empty_values:
            return None
        try:
            return parse_client_datetime(str(value)[:64])
        except ValueError:
            raise forms.ValidationError(_("Open the request again."), code="invalid") from None


def terms_version(item: dict) -> str:
    """What a page puts in a TermsVersionField for the disclosed request `item`."""
    return item["updated_at"].isoformat()


class ApproveForm(SafeForm):
    version = TermsVersionField()
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    otp = FreshCodeField()


class RejectForm(SafeForm):
    reason = forms.CharField(
        label=_("Why it is rejected"),
        max_length=2000,
        help_text=_("The person who asked reads this."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    otp = FreshCodeField()


class PayForm(SafeForm):
    receipt_reference = forms.CharField(
        label=_("Receipt reference"),
        required=False,
        max_length=500,
        help_text=_("The reference on the receipt or transfer confirmation."),
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    otp = FreshCodeField()


class CancelForm(SafeForm):
    reason = forms.CharField(
        label=_("Why it is cancelled (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ApproveSelectedForm(SafeForm):
    """Several requests approved under one code: each is still its own approval."""

    def __init__(self, *args, waiting: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["selected"] = forms.MultipleChoiceField(
            label=_("Requests to approve"),
            choices=[(pk, pk) for pk in waiting],
            widget=forms.MultipleHiddenInput(),
            error_messages={"required": _("Select at least one request to approve.")},
        )
        self.order_fields(["selected"])
        # Each shown request's `updated_at` as the page showed it, one hidden field per request
        # (`version-<id>`): a request changed since it was shown is not approved.
        for pk in waiting:
            self.fields[f"version-{pk}"] = TermsVersionField(required=False)

    comment = forms.CharField(
        label=_("Comment on each approval (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    otp = FreshCodeField()


class SourceForm(SafeForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=_choices(SOURCE_KIND))
    donor_reference = forms.CharField(
        label=_("Donor's reference (optional)"), required=False, max_length=100
    )
    currency = CurrencyField(label=_("Currency"))
    amount = AmountField(label=_("Amount received"))
    received_on = forms.DateField(label=_("Received on"), widget=DateInput())
    restricted_to = forms.MultipleChoiceField(
        label=_("Only for these categories (none: any)"),
        required=False,
        choices=_choices(CATEGORY),
        widget=forms.CheckboxSelectMultiple(),
    )
    valid_from = forms.DateField(
        label=_("Usable from (optional)"), required=False, widget=DateInput()
    )
    valid_until = forms.DateField(
        label=_("Usable until (optional)"), required=False, widget=DateInput()
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        _check_precision(self, "amount", data.get("currency"))
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("It must not be before the first usable day."))
        return data

    def fields_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["amount_received"] = data.pop("amount")
        return data


class AllocationForm(SafeForm):
    def __init__(self, *args, sources: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"] = _private(
            forms.ChoiceField(label=_("Source"), choices=[("", _("Choose a source")), *sources])
        )
        self.order_fields(["source"])

    case_reference = forms.CharField(
        label=_("Case reference"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocapitalize": "characters"}),
    )
    category = forms.ChoiceField(label=_("Category"), choices=_choices(CATEGORY))
    amount = AmountField(label=_("Amount, in the source's currency"))


class RateForm(SafeForm):
    from_currency = CurrencyField(label=_("From currency"))
    to_currency = CurrencyField(label=_("To currency"))
    rate = RateField(
        label=_("Rate"), help_text=_("Units of the second currency for one unit of the first.")
    )
    rate_date = forms.DateField(label=_("Date of the rate"), widget=DateInput())
    rate_source = forms.CharField(
        label=_("Where it comes from"),
        max_length=200,
        help_text=_("E.g. the central bank's published rate or an exchange office's board."),
    )
