"""Settings from the environment: embedded default, production hardening (SEC-01/03)."""

import os
import secrets
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings

from tests.conftest import REPO_ROOT


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run Python in a fresh interpreter with only the given Ladder variables."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_"))
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO_ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(tmp_path, **extra: str) -> dict[str, str]:
    return {
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "crm.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        **extra,
    }


def test_embedded_default_uses_sqlite_and_inline_tasks():
    code = """
        import django, os
        os.environ["DJANGO_SETTINGS_MODULE"] = "crm.settings"
        django.setup()
        from django.conf import settings
        print(settings.DATABASES["default"]["ENGINE"], settings.CELERY_TASK_ALWAYS_EAGER,
              settings.EMAIL_BACKEND, settings.DEBUG)
    """
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "True",
        "django.core.mail.backends.console.EmailBackend",
        "False",
    ]


def test_database_and_broker_urls_switch_to_real_services():
    code = """
        import django, os
        os.environ["DJANGO_SETTINGS_MODULE"] = "crm.settings"
        django.setup()
        from django.conf import settings
        print(settings.DATABASES["default"]["ENGINE"], settings.CELERY_TASK_ALWAYS_EAGER)
    """
    result = run_python(
        code,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/ladder",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "False"]


@pytest.mark.parametrize("key", ["", "short", "django-insecure-" + "x" * 60, "a" * 64])
def test_production_refuses_to_start_without_a_real_secret_key(tmp_path, key):
    env = production_env(tmp_path, DJANGO_SECRET_KEY=key)
    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='crm.settings'; django.setup()",
        **env,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_passes_the_deployment_checklist(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
            **production_env(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_no_security_check_is_silenced():
    silenced = getattr(settings, "SILENCED_SYSTEM_CHECKS", [])
    assert not any(check.startswith("security.") for check in silenced)


def test_production_session_cookie_is_host_prefixed_secure_httponly_lax(tmp_path):
    code = """
        import django, os
        os.environ["DJANGO_SETTINGS_MODULE"] = "crm.settings"
        django.setup()
        from django.core.management import call_command
        from django.contrib.auth import get_user_model
        from django.test import Client
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        get_user_model().objects.create_user("alice", password="pass-Word-123")
        client = Client(HTTP_HOST="crm.example.com")
        response = client.post(
            "/accounts/login/", {"username": "alice", "password": "pass-Word-123"},
            secure=True,
        )
        cookie = response.cookies["__Host-sessionid"]
        print(response.status_code, bool(cookie["secure"]), bool(cookie["httponly"]),
              cookie["samesite"], cookie["path"], bool(cookie["domain"]))
        fresh = Client(HTTP_HOST="crm.example.com")
        csrf = fresh.get("/accounts/login/", secure=True).cookies["csrftoken"]
        print(bool(csrf["secure"]))
    """
    result = run_python(code, **production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.strip().splitlines()
    assert first.split() == ["302", "True", "True", "Lax", "/", "False"]
    assert second == "True"


def test_sessions_expire_after_inactivity():
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_AGE <= 30 * 60
