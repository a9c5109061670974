from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tendero.accounts.models import ApiToken, hash_token
from tendero.accounts.services import (
    AccountError,
    authenticate_api_token,
    create_api_token,
    revoke_api_token,
)


def test_the_token_command_prints_a_token_that_authenticates(reader, client):
    out = StringIO()
    call_command("token", "create", reader.username, stdout=out, stderr=StringIO())
    raw = out.getvalue().strip()
    assert raw.startswith("tdr_")
    stored = ApiToken.objects.get(user=reader)
    assert stored.key_hash == hash_token(raw)
    assert raw not in stored.hint  # only a short hint is kept in clear
    assert authenticate_api_token(raw) == reader


def test_the_token_command_refuses_unknown_users(db):
    with pytest.raises(CommandError):
        call_command("token", "create", "nobody", stdout=StringIO())


def test_revoked_and_expired_tokens_no_longer_authenticate(reader):
    revoked = create_api_token(reader, "laptop")
    revoke_api_token(reader, revoked.token.pk)
    expired = create_api_token(reader, "old", expires_at=timezone.now() - timedelta(minutes=1))
    assert authenticate_api_token(revoked.raw) is None
    assert authenticate_api_token(expired.raw) is None
    assert authenticate_api_token("tdr_guess") is None
    assert authenticate_api_token("") is None


def test_tokens_of_deactivated_users_stop_working(reader):
    issued = create_api_token(reader, "ci")
    reader.is_active = False
    reader.save()
    assert authenticate_api_token(issued.raw) is None
    with pytest.raises(AccountError):
        create_api_token(reader, "again")


def test_nobody_can_revoke_someone_elses_token(reader, marketer):
    issued = create_api_token(reader, "mine")
    with pytest.raises(AccountError):
        revoke_api_token(marketer, issued.token.pk)
    assert authenticate_api_token(issued.raw) == reader


def test_the_token_command_lists_and_revokes(reader):
    issued = create_api_token(reader, "script")
    out = StringIO()
    call_command("token", "list", reader.username, stdout=out)
    assert "script" in out.getvalue()
    assert issued.raw not in out.getvalue()
    call_command("token", "revoke", str(issued.token.pk), stdout=StringIO())
    assert authenticate_api_token(issued.raw) is None
