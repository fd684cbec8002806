"""Entry points of the processes that verify slices of the log in parallel.

Kept apart from `audit.verify`: a spawned process unpickles these functions before Django is
set up, so this module may not import models at import time.
"""

from __future__ import annotations

from typing import Any


def start(database_name: str) -> None:
    import django

    django.setup()
    from django.db import connections

    connections["default"].settings_dict["NAME"] = database_name


def verify_slice(bounds: tuple[int, int]) -> Any:
    from audit.verify import verify_slice

    return verify_slice(*bounds)
