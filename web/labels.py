"""What the pages call the values the API spells as codes: categories, measures, kinds.

The codes stay the API's (and the CSV's); only what a person reads is translated, here, once.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from funds.models import Category, FundingSource

CATEGORY_LABELS: dict[str, Promise] = {
    Category.TRAVEL: _("Travel"),
    Category.HOUSING: _("Housing"),
    Category.FOOD: _("Food"),
    Category.MEDICAL: _("Medical"),
    Category.DOCUMENTS: _("Documents"),
    Category.COMMUNICATION: _("Communication"),
    Category.LEGAL: _("Legal"),
    Category.OTHER: _("Other"),
}

SOURCE_KIND_LABELS: dict[str, Promise] = {
    FundingSource.Kind.DONATION_CAMPAIGN: _("Donation campaign"),
    FundingSource.Kind.GRANT: _("Grant"),
    FundingSource.Kind.OTHER: _("Other"),
}

# The summary report's measures (funds.reports.MEASURES), as column headings and chart legends.
MEASURE_LABELS: dict[str, Promise] = {
    "received": _("Received"),
    "allocated": _("Allocated"),
    "requested": _("Requested"),
    "approved": _("Approved"),
    "paid": _("Paid"),
    "paid_rate_not_ok": _("Paid at a rate not checked as ok"),
    "remaining": _("Remaining in allocations"),
    "unallocated": _("Not allocated"),
}


def category_label(code: str) -> str:
    """The category's name in the current language; an unknown code is shown as it is."""
    return str(CATEGORY_LABELS.get(code, code))
