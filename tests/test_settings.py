"""Settings: production is hardened, and nonsense in the environment stops the server."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_rate, env_str

ROOT = Path(__file__).resolve().parents[1]

# The production environment the README documents (secrets as files, as there).
PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DATABASE_URL": "postgres://safe_passage@db.internal:5432/safe_passage",
    "DJANGO_ALLOWED_HOSTS": "safe-passage.example.org",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "TRUSTED_PROXY_COUNT": "1",
    "ENCRYPTION_KEKS": "2026-11:" + base64.b64encode(secrets.token_bytes(32)).decode(),
    "ENCRYPTION_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
}


@pytest.fixture
def documented_production_env(tmp_path) -> dict[str, str]:
    env = dict(PRODUCTION_ENV)
    for name in ("DJANGO_SECRET_KEY", "DATABASE_URL", "ENCRYPTION_KEKS", "ENCRYPTION_INDEX_KEY"):
        path = tmp_path / name.lower()
        path.write_text(env.pop(name) + "\n")
        env[f"{name}_FILE"] = str(path)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    prefixes = ("DJANGO_", "DATABASE_", "ENCRYPTION_")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    clean.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_check_is_clean_with_the_documented_production_environment(
    documented_production_env,
):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=documented_production_env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_fails_when_hardening_is_turned_off():
    env = {**PRODUCTION_ENV, "DJANGO_HSTS_SECONDS": "0", "DJANGO_SECURE_SSL_REDIRECT": "false"}

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout


@pytest.mark.parametrize(
    "missing",
    [
        "DJANGO_SECRET_KEY",
        "DATABASE_URL",
        "DJANGO_ALLOWED_HOSTS",
        "ENCRYPTION_KEKS",
        "ENCRYPTION_INDEX_KEY",
    ],
)
def test_production_refuses_to_start_without_its_required_settings(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}

    result = manage("check", env=env)

    assert result.returncode != 0
    assert missing in result.stderr


def test_debug_cannot_be_enabled_in_production():
    result = manage("check", env={**PRODUCTION_ENV, "DJANGO_DEBUG": "true"})

    assert result.returncode != 0
    assert "DJANGO_DEBUG" in result.stderr


@pytest.mark.parametrize("value", ["maybe", "tru", "2", "yes please"])
def test_a_nonsense_boolean_is_an_error_not_false(monkeypatch, value):
    monkeypatch.setenv("DJANGO_DEBUG", value)

    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        env_bool("DJANGO_DEBUG", default=False)


def test_typed_readers_refuse_nonsense(monkeypatch):
    monkeypatch.setenv("TOKEN_TTL_HOURS", "eight")
    monkeypatch.setenv("LOGIN_THROTTLE_RATE", "lots")
    monkeypatch.setenv("LOGIN_FAILURE_LIMIT", "0")

    with pytest.raises(ImproperlyConfigured):
        env_int("TOKEN_TTL_HOURS", 8)
    with pytest.raises(ImproperlyConfigured):
        env_rate("LOGIN_THROTTLE_RATE", "30/min")
    with pytest.raises(ImproperlyConfigured):
        env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)


def test_secrets_can_come_from_a_file(monkeypatch, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    monkeypatch.delenv("SOME_SECRET", raising=False)
    monkeypatch.setenv("SOME_SECRET_FILE", str(secret_file))

    assert env_str("SOME_SECRET") == "from-a-file"

    monkeypatch.setenv("SOME_SECRET", "also-set")
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env_str("SOME_SECRET")


def test_with_no_environment_every_command_uses_the_embedded_database(tmp_path):
    var_dir = tmp_path / "var"

    first = manage("migrate", "--noinput", env={"SAFE_PASSAGE_VAR_DIR": str(var_dir)})
    second = manage("showmigrations", "accounts", env={"SAFE_PASSAGE_VAR_DIR": str(var_dir)})

    assert first.returncode == 0, first.stderr
    assert "[X] 0002_roles" in second.stdout
    assert (var_dir / "safe-passage.sqlite3").exists()
    assert (var_dir / "dev-secret-key").stat().st_mode & 0o077 == 0
