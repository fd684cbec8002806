"""Django's SQLite backend with the project's before-commit hooks (`common.db.commit`)."""

from django.db.backends.sqlite3 import base

from common.db.commit import CommitMixin


class DatabaseWrapper(CommitMixin, base.DatabaseWrapper):
    pass
