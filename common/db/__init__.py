"""The project's database backends: Django's PostgreSQL and SQLite backends with one addition,
a hook that runs just before a transaction commits (`common.db.commit`)."""
