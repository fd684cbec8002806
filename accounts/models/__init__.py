"""Staff accounts and what belongs to them: sealed second factors, token details, device tokens
and login failures, enrolment codes, and changes waiting for a second admin."""

from accounts.models.changes import StaffChange
from accounts.models.devices import BackupCode, BackupCodeDevice, SealedTOTPDevice
from accounts.models.enrolment import EnrolmentCode
from accounts.models.lockout import DeviceToken, LoginFailure
from accounts.models.staff import User, UserManager, normalize_username, username_validator
from accounts.models.tokens import TokenRecord

__all__ = [
    "BackupCode",
    "BackupCodeDevice",
    "DeviceToken",
    "EnrolmentCode",
    "LoginFailure",
    "SealedTOTPDevice",
    "StaffChange",
    "TokenRecord",
    "User",
    "UserManager",
    "normalize_username",
    "username_validator",
]
