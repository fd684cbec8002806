"""The project's database backends run registered hooks just before a commit, inside the
transaction: what a hook writes commits with it, and a hook that raises rolls it back."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connections, transaction

from common.db import commit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hooks(monkeypatch):
    registered: list = []
    monkeypatch.setattr(commit, "_before_commit", registered)
    return registered


def test_the_backend_is_the_projects():
    assert isinstance(connections["default"], commit.CommitMixin)


def test_a_hook_runs_inside_the_transaction_and_its_writes_commit_with_it(hooks):
    seen = []

    def hook(conn):
        seen.append(conn.in_atomic_block)
        Group.objects.create(name="written-by-the-hook")

    commit.register_before_commit(hook)
    with transaction.atomic():
        Group.objects.create(name="written-by-the-work")

    assert seen == [False]  # Django leaves the atomic block just before committing
    assert Group.objects.filter(name__startswith="written-by-the-").count() == 2


def test_a_hook_that_raises_rolls_the_transaction_back(hooks):
    def hook(conn):
        raise RuntimeError("refused before commit")

    commit.register_before_commit(hook)
    with pytest.raises(RuntimeError, match="refused before commit"), transaction.atomic():
        Group.objects.create(name="must-not-survive")

    assert not Group.objects.filter(name="must-not-survive").exists()
