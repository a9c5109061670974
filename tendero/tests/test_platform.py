import os
import subprocess
import sys
from datetime import datetime, timedelta

from django.contrib.sessions.models import Session
from django.utils import timezone

from tendero.accounts.models import ApiToken
from tendero.accounts.services import create_api_token
from tendero.accounts.tasks import purge_expired_credentials


def _run_tendero(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # The browser tests allow async-unsafe ORM calls in this process; a deployment never does.
    dropped = {"SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean_env = {k: v for k, v in os.environ.items() if k not in dropped}
    clean_env.update(env)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "tendero.cli", *args],
        capture_output=True,
        text=True,
        env=clean_env,
        timeout=120,
        check=False,
    )


def test_healthz_reports_the_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"


def test_healthz_answers_only_get(client, db):
    assert client.post("/healthz").status_code == 405


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _run_tendero(
        "check",
        TENDERO_ENV="production",
        ALLOWED_HOSTS="crm.example.com",
        TENDERO_DATA_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts(tmp_path):
    result = _run_tendero(
        "check", TENDERO_ENV="production", SECRET_KEY="x" * 60, TENDERO_DATA_DIR=str(tmp_path)
    )
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_production_settings_pass_the_deployment_checklist(tmp_path):
    result = _run_tendero(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        TENDERO_ENV="production",
        SECRET_KEY="k3y-" + "a1b2c3d4e5f6g7h8i9j0" * 3,
        ALLOWED_HOSTS="crm.example.com",
        TENDERO_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_a_malformed_setting_fails_loudly(tmp_path):
    result = _run_tendero("check", DEBUG="maybe", TENDERO_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_the_nightly_purge_removes_expired_sessions_and_old_revoked_tokens(admin_user):
    Session.objects.create(
        session_key="old", session_data="", expire_date=timezone.now() - timedelta(days=1)
    )
    Session.objects.create(
        session_key="live", session_data="", expire_date=timezone.now() + timedelta(days=1)
    )
    old = create_api_token(admin_user, "old").token
    ApiToken.objects.filter(pk=old.pk).update(revoked_at=timezone.now() - timedelta(days=100))
    kept = create_api_token(admin_user, "kept").token

    result = purge_expired_credentials.call_local()

    assert result == {"sessions": 1, "tokens": 1}
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [kept.pk]
    # Safe to run twice.
    assert purge_expired_credentials.call_local() == {"sessions": 0, "tokens": 0}


def test_the_purge_is_scheduled_nightly():
    task = purge_expired_credentials.task_class()
    assert task.validate_datetime(datetime(2026, 1, 1, 3, 15))
    assert not task.validate_datetime(datetime(2026, 1, 1, 12, 0))
