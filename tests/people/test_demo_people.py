"""`seed_demo_people` for `make run`: fictional people, once, in development only."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from people.models import Person

pytestmark = pytest.mark.django_db


def test_demo_people_are_recorded_once_for_demo_caseworker(make_staff):
    staff = make_staff("caseworker", username="demo-caseworker")

    call_command("seed_demo_people")
    call_command("seed_demo_people")

    people = Person.objects.with_keys().filter(created_by=staff.user)
    assert people.count() == 2
    assert all(person.full_name.startswith("Demo Person") for person in people)


def test_demo_people_refuse_outside_development(settings, make_staff):
    settings.DEV_MODE = False
    make_staff("caseworker", username="demo-caseworker")

    with pytest.raises(CommandError, match="development"):
        call_command("seed_demo_people")
    assert not Person.objects.exists()
