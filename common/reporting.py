"""Django's exception reporter, hiding the encryption keys too.

Django hides settings whose names contain API, AUTH, TOKEN, KEY, SECRET, PASS or SIGNATURE;
`ENCRYPTION_KEKS` (and the URLs, which may carry passwords) match none of them.
"""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter


class ExceptionReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|KEK|SECRET|PASS|SIGNATURE|DATABASE_URL|REDIS_URL", flags=re.I
    )
