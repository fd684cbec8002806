"""Shared bits of the people tests."""

from __future__ import annotations

PEOPLE_URL = "/api/v1/people/"


def person_url(person_id: object, suffix: str = "") -> str:
    return f"{PEOPLE_URL}{person_id}/{suffix}"


def a_person(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "full_name": "Иван Петрович Ёлкин",
        "preferred_name": "Ваня",
        "date_of_birth": "1994-05-17",
        "phone": "+7 928 000-00-00",
        "messenger": "Telegram @vanya_e",
        "document_type": "internal_passport",
        "document_number": "96 04 123456",
        "nationality": "RU",
        "languages": ["ru", "ce"],
        "notes": "Called from a neighbour's phone; do not call back after 20:00.",
    }
    body.update(overrides)
    return body
