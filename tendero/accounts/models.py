import hashlib
import secrets
from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TOKEN_PREFIX = "tdr_"  # noqa: S105  (a public prefix, not a secret)


class TenderoUserManager(UserManager["User"]):
    def with_permission(self, permission: str) -> "models.QuerySet[User]":
        """Active users who have `permission` ("app_label.codename") the way
        `user.has_perm` sees it: through a role, directly, or as superusers."""
        app_label, codename = permission.split(".", 1)
        granted = {"content_type__app_label": app_label, "codename": codename}
        return (
            self.filter(is_active=True)
            .filter(
                models.Q(is_superuser=True)
                | models.Q(**{f"groups__permissions__{k}": v for k, v in granted.items()})
                | models.Q(**{f"user_permissions__{k}": v for k, v in granted.items()})
            )
            .distinct()
        )


class User(AbstractUser):
    """A person who uses Tendero. Their role is the group they belong to."""

    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Empty means: follow the browser."),
    )
    # The department an interaction is logged against when its author does not say.
    department = models.ForeignKey(
        "organization.Department",
        verbose_name=_("department"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )

    objects: ClassVar[TenderoUserManager] = TenderoUserManager()

    class Meta:
        ordering = ["first_name", "last_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


def hash_token(raw: str) -> str:
    # API tokens carry 256 bits of randomness, so a fast hash is safe here
    # (unlike passwords) and keeps authentication one indexed lookup.
    return hashlib.sha256(raw.encode()).hexdigest()


def generate_raw_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> "ApiTokenQuerySet":
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A personal API token. Only its hash is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text=_("The token's first characters."))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())
