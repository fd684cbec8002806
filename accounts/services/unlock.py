"""Unlocking an account the login lockout holds: an admin's write, at once and audited.

It only takes a barrier away that failures put up (no right is granted, nothing is read), so
it waits for no second admin; like every admin write it takes the admin's fresh code (checked by
the caller). It forgets the failures counted against the account for unknown devices and against
its device tokens, and resets its authenticator's throttle; on request (`addresses`) also every
failure from the addresses that tried the account, so colleagues behind one office address are
not held up. The answer says whether any of those addresses is still slowed down.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import lockout
from accounts.models import BackupCodeDevice, SealedTOTPDevice, User
from accounts.services.staff import lock_staff_row
from audit.events import record_event
from audit.models import Action

THROTTLE_FIELDS = ["throttling_failure_count", "throttling_failure_timestamp"]


@dataclass(frozen=True)
class Unlocked:
    """What an unlock did. `address_unlocked` is True when no address that failed on this
    account is still slowed down (also when addresses are not counted at all,
    LOGIN_LIMIT_BY_ADDRESS=false); otherwise `addresses_still_slowed` of them are, by failures
    for other names, until their delay runs out (at most LOGIN_COOLOFF_MINUTES)."""

    staff: User
    failures_cleared: int  # against the account (unknown devices) and its device tokens
    address_failures_cleared: int  # from the addresses that tried it (with `addresses`)
    second_factor_throttle_reset: bool
    address_unlocked: bool
    addresses_still_slowed: int


@transaction.atomic
def account_unlock(*, user: User, addresses: bool = False) -> Unlocked:
    """Clear the lockout that holds `user` out (see the module). Audited as
    `account_unlocked` with the counts, never a name or an address; the actor is the admin in
    the audit context. Raises nothing for an account that was not locked: it answers zeros."""
    user = lock_staff_row(user)
    cleared = lockout.failures_clear(user=user, addresses=addresses)
    throttled = False
    for model in (SealedTOTPDevice, BackupCodeDevice):
        for device in model.objects.select_for_update(of=("self",)).filter(user=user):
            if device.throttling_failure_count:
                throttled = True
                device.throttle_reset(commit=False)
                device.save(update_fields=THROTTLE_FIELDS)
    counted = settings.LOGIN_LIMIT_BY_ADDRESS
    outcome = Unlocked(
        staff=user,
        failures_cleared=cleared.account_failures + cleared.device_failures,
        address_failures_cleared=cleared.address_failures,
        second_factor_throttle_reset=throttled,
        address_unlocked=not counted or cleared.addresses_still_slowed == 0,
        addresses_still_slowed=cleared.addresses_still_slowed if counted else 0,
    )
    record_event(
        action=Action.ACCOUNT_UNLOCKED,
        instance=user,
        data={
            "failures_cleared": outcome.failures_cleared,
            "address_failures_cleared": outcome.address_failures_cleared,
            "addresses": addresses,
            "second_factor_throttle_reset": throttled,
            "addresses_still_slowed": outcome.addresses_still_slowed,
        },
    )
    return outcome


def unlock_note(outcome: Unlocked) -> str:
    """What an unlock's answer (and the web page) tells the admin, in whole sentences."""
    if outcome.address_unlocked:
        return _("The account is unlocked. No address that tried it is slowed down now.")
    return ngettext(
        "The account is unlocked, but %(count)s address that tried it is still slowed down by "
        "failures for other names, for at most %(minutes)s more minutes. From a device that "
        "signed in before, or from another address, the account works now.",
        "The account is unlocked, but %(count)s addresses that tried it are still slowed down "
        "by failures for other names, for at most %(minutes)s more minutes. From a device that "
        "signed in before, or from another address, the account works now.",
        outcome.addresses_still_slowed,
    ) % {
        "count": outcome.addresses_still_slowed,
        "minutes": int(settings.LOGIN_COOLOFF.total_seconds() // 60),
    }
