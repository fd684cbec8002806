"""What the case pages call each stored code (statuses, risk levels, categories, ...), in the
reader's language. The codes are the models' (cases.models, people.models); only the words
live here, so a page never shows `in_transit` and never keeps a second list of the codes."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases.models import (
    Need,
    NeedCategory,
    ProtectionConcern,
    Relationship,
    RiskLevel,
    Status,
    TimelineEntry,
)
from people.models import DocumentType

STATUS: dict[str, Promise] = {
    Status.INTAKE: _("Intake"),
    Status.VERIFICATION: _("Verification"),
    Status.APPROVED: _("Approved for evacuation"),
    Status.IN_TRANSIT: _("In transit"),
    Status.SHELTERED: _("Sheltered"),
    Status.RESETTLED: _("Resettled"),
    Status.CLOSED: _("Closed"),
    Status.REJECTED: _("Rejected"),
    Status.WITHDRAWN: _("Withdrawn"),
    Status.LOST_CONTACT: _("Lost contact"),
}

# The button that moves a case to each state, as a sentence the caller acts on.
MOVE_TO: dict[str, Promise] = {
    Status.INTAKE: _("Back to intake"),
    Status.VERIFICATION: _("Send for verification"),
    Status.APPROVED: _("Approve for evacuation"),
    Status.IN_TRANSIT: _("Mark as in transit"),
    Status.SHELTERED: _("Mark as sheltered"),
    Status.RESETTLED: _("Mark as resettled"),
    Status.CLOSED: _("Close the case"),
    Status.REJECTED: _("Reject the case"),
    Status.WITHDRAWN: _("Mark as withdrawn"),
    Status.LOST_CONTACT: _("Mark contact as lost"),
}

RISK: dict[str, Promise] = {
    RiskLevel.CRITICAL: _("Critical"),
    RiskLevel.HIGH: _("High"),
    RiskLevel.MEDIUM: _("Medium"),
    RiskLevel.LOW: _("Low"),
}

CONCERN: dict[str, Promise] = {
    ProtectionConcern.DETAINED: _("Detained"),
    ProtectionConcern.TORTURED: _("Tortured"),
    ProtectionConcern.THREATENED_BY_FAMILY: _("Threatened by family"),
    ProtectionConcern.THREATENED_BY_AUTHORITIES: _("Threatened by the authorities"),
    ProtectionConcern.OUTED: _("Outed"),
    ProtectionConcern.IN_HIDING: _("In hiding"),
    ProtectionConcern.MEDICAL_EMERGENCY: _("Medical emergency"),
    ProtectionConcern.FORCED_MARRIAGE: _("Forced marriage"),
    ProtectionConcern.HONOUR_VIOLENCE: _("Honour violence"),
    ProtectionConcern.MISSING_DOCUMENTS: _("Missing documents"),
    ProtectionConcern.OTHER: _("Other"),
}

RELATIONSHIP: dict[str, Promise] = {
    Relationship.PRIMARY: _("Primary person"),
    Relationship.PARTNER: _("Partner"),
    Relationship.CHILD: _("Child"),
    Relationship.PARENT: _("Parent"),
    Relationship.SIBLING: _("Sibling"),
    Relationship.OTHER: _("Other"),
}

NEED_CATEGORY: dict[str, Promise] = {
    NeedCategory.TRAVEL: _("Travel"),
    NeedCategory.HOUSING: _("Housing"),
    NeedCategory.FOOD: _("Food"),
    NeedCategory.MEDICAL: _("Medical"),
    NeedCategory.DOCUMENTS: _("Documents"),
    NeedCategory.COMMUNICATION: _("Communication"),
    NeedCategory.LEGAL: _("Legal"),
    NeedCategory.OTHER: _("Other"),
}

NEED_STATUS: dict[str, Promise] = {
    Need.Status.OPEN: _("Open"),
    Need.Status.IN_PROGRESS: _("In progress"),
    Need.Status.MET: _("Met"),
    Need.Status.CANCELLED: _("Cancelled"),
}

DOCUMENT_TYPE: dict[str, Promise] = {
    DocumentType.PASSPORT: _("Passport"),
    DocumentType.INTERNAL_PASSPORT: _("Internal passport"),
    DocumentType.TRAVEL_DOCUMENT: _("Travel document"),
    DocumentType.ID_CARD: _("Identity card"),
    DocumentType.BIRTH_CERTIFICATE: _("Birth certificate"),
    DocumentType.OTHER: _("Other"),
}

TIMELINE_KIND: dict[str, Promise] = {
    TimelineEntry.Kind.STATUS: _("Status changed"),
    TimelineEntry.Kind.RISK: _("Risk changed"),
    TimelineEntry.Kind.MONEY: _("Money request moved with the case"),
    TimelineEntry.Kind.MEMBER_ADDED: _("Added to the household"),
    TimelineEntry.Kind.MEMBER_REMOVED: _("Taken off the household"),
    TimelineEntry.Kind.MEMBER_CHANGED: _("Household role changed"),
    TimelineEntry.Kind.ASSIGNED: _("Caseworker assigned"),
    TimelineEntry.Kind.UNASSIGNED: _("Caseworker unassigned"),
}


def choices(labels: dict[str, Promise]) -> list[tuple[str, Promise]]:
    """(code, label) pairs for a form field, in the models' order."""
    return list(labels.items())


def label_of(value: str | None, *tables: dict[str, Promise]) -> str:
    """The label of `value` in the first table that has it, else the code itself."""
    for table in tables:
        if value in table:
            return str(table[value])
    return value or ""
