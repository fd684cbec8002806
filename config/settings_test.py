"""Test settings: the real settings, with what only tests need on top."""

from config.settings import *  # noqa: F403
from config.settings import ALLOWED_HOSTS, DATABASES, VAR_DIR

ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]

# Still Argon2, with cheaper parameters so the suite is not dominated by password hashing.
PASSWORD_HASHERS = ["tests.hashers.FastArgon2PasswordHasher"]

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory: the cross-process lockout tests open the test database from a second
    # process.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-safe-passage.sqlite3")}
