"""The Russian catalogue is complete, compiled, and holds every string the source marks.

The extraction check needs GNU gettext's xgettext (Django's makemessages runs it); without it
that test fails and says so, rather than passing silently. `.ci/run` installs it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "ru" / "LC_MESSAGES" / "django.po"
COMPILED = CATALOGUE.with_suffix(".mo")
SOURCES = ("accounts", "audit", "cases", "common", "config", "encryption", "funds", "people", "web")


def untranslated(path: Path) -> list[str]:
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(message.id if isinstance(message.id, str) else message.id[0])
    return problems


def test_every_message_in_the_catalogue_has_its_russian_text():
    assert untranslated(CATALOGUE) == []


def _pairs(messages) -> dict:
    def plain(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {(plain(m.id), m.context): plain(m.string) for m in messages if m.id}


def test_the_committed_compiled_catalogue_matches_its_source():
    with CATALOGUE.open("rb") as handle:
        source = _pairs(read_po(handle))
    with COMPILED.open("rb") as handle:
        compiled = _pairs(read_mo(handle))

    assert compiled == source, "run `make messages` and commit locale/"


def test_russian_plural_forms_follow_the_number():
    from django.utils import translation

    with translation.override("ru"):
        said = {
            n: translation.ngettext(
                "Too many sign-in attempts from this address. Try again in %(seconds)s second.",
                "Too many sign-in attempts from this address. Try again in %(seconds)s seconds.",
                n,
            )
            % {"seconds": n}
            for n in (1, 3, 5, 21)
        }

    assert said[1].endswith("через 1 секунду.")
    assert said[3].endswith("через 3 секунды.")
    assert said[5].endswith("через 5 секунд.")
    assert said[21].endswith("через 21 секунду.")


def test_every_translatable_string_in_the_source_is_in_the_catalogue(tmp_path):
    if shutil.which("xgettext") is None:
        pytest.fail(
            "GNU gettext's xgettext is not installed, so the source cannot be checked for "
            "strings missing from the catalogue: apt-get install gettext."
        )
    copy = tmp_path / "project"
    copy.mkdir()
    for name in (*SOURCES, "locale", "manage.py"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, copy / name)

    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "ru", "--no-obsolete"],
        cwd=copy,
        env={"PATH": "/usr/bin:/bin", "SAFE_PASSAGE_VAR_DIR": str(tmp_path / "var")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    missing = untranslated(copy / "locale" / "ru" / "LC_MESSAGES" / "django.po")
    assert missing == [], f"strings without Russian (run `make messages`): {missing}"
