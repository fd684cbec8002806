"""Every input pattern matches the whole value: Python's `$` also matches before a final
newline, so `"12\\n"` or a request id ending in a newline would slip through a `^...$` check."""

from __future__ import annotations

import re

import pytest

from accounts.authentication import _TOKEN_SHAPE
from cases.models import REFERENCE_PATTERN
from common.middleware import CLIENT_REQUEST_ID
from common.money import parse_amount, parse_rate
from common.serializers import _FIELD_NAME
from encryption.keyring import KEK_ID_PATTERN

VALID = [
    (REFERENCE_PATTERN, "EV-7K3Q9P"),
    (_FIELD_NAME, "full_name"),
    (CLIENT_REQUEST_ID, "req-12345678"),
    (KEK_ID_PATTERN, "2026-12"),
]


@pytest.mark.parametrize(("pattern", "value"), VALID)
def test_a_valid_value_with_a_trailing_newline_is_refused(pattern: re.Pattern, value: str):
    assert pattern.match(value)
    assert not pattern.match(value + "\n")


def test_a_token_with_a_trailing_newline_is_refused():
    token = b"a" * 64
    assert _TOKEN_SHAPE.match(token)
    assert not _TOKEN_SHAPE.match(token + b"\n")


@pytest.mark.parametrize("parse", [lambda text: parse_amount(text, "EUR"), parse_rate])
def test_money_with_a_trailing_newline_is_refused(parse):
    assert parse("12.5") > 0
    with pytest.raises(ValueError, match="Write the"):
        parse("12.5\n")
