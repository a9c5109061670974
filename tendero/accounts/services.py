"""State changes for the people who use Tendero: tokens and preferences."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.translation import gettext as _

from tendero.accounts.models import ApiToken, User, generate_raw_token, hash_token


class AccountError(Exception):
    """A request about an account that cannot be carried out, with a message for people."""


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str


def create_api_token(user: User, name: str, expires_at: datetime | None = None) -> IssuedToken:
    """Issue a new API token for `user`. The raw value is returned once and never stored.

    Raises AccountError for an inactive user or an empty name.
    """
    if not user.is_active:
        raise AccountError(_("An inactive user cannot receive an API token."))
    name = name.strip()
    if not name:
        raise AccountError(_("A token needs a name."))
    raw = generate_raw_token()
    token = ApiToken.objects.create(
        user=user, name=name[:100], key_hash=hash_token(raw), hint=raw[:8], expires_at=expires_at
    )
    return IssuedToken(token=token, raw=raw)


def authenticate_api_token(raw: str) -> User | None:
    """Return the active user a raw token belongs to, or None; records when it was used."""
    if not raw or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.active()
        .select_related("user")
        .filter(key_hash=hash_token(raw), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Write at most once a minute so that busy API clients do not write on every call.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def revoke_api_token(user: User, token_id: int) -> None:
    """Revoke one of `user`'s own tokens. Raises AccountError if it is not theirs."""
    updated = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not updated:
        raise AccountError(_("No such active token."))


def set_language_preference(user: User, language: str) -> None:
    """Store the language a user wants the interface in ('' follows the browser).

    Raises AccountError for a language Tendero does not speak.
    """
    if language and language not in dict(settings.LANGUAGES):
        raise AccountError(_("Unsupported language."))
    user.language = language
    user.save(update_fields=["language"])


# Revoked or expired tokens are kept a while so that "why did my script stop?" has an answer.
SPENT_TOKEN_RETENTION = timedelta(days=90)


def purge_expired_credentials() -> dict[str, int]:
    """Delete expired sessions, and tokens revoked or expired more than 90 days ago.

    Returns how many of each were deleted; running it twice deletes nothing more.
    """
    now = timezone.now()
    sessions, _deleted = Session.objects.filter(expire_date__lt=now).delete()
    cutoff = now - SPENT_TOKEN_RETENTION
    revoked, _deleted = ApiToken.objects.filter(revoked_at__lt=cutoff).delete()
    expired, _deleted = ApiToken.objects.filter(expires_at__lt=cutoff).delete()
    return {"sessions": sessions, "tokens": revoked + expired}
