"""What the kernel keeps: the answers to requests sent with an Idempotency-Key."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Long enough for a client to retry after a lost answer; the nightly purge removes older keys.
IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)
IDEMPOTENCY_KEY_MAX_LENGTH = 255


class IdempotencyKeyQuerySet(models.QuerySet["IdempotencyKey"]):
    def expired(self) -> IdempotencyKeyQuerySet:
        return self.filter(created_at__lt=timezone.now() - IDEMPOTENCY_KEY_LIFETIME)


class IdempotencyKey(models.Model):
    """A request that created something, sent with an Idempotency-Key header: the hash
    of what was asked and the answer given, so that the same request again (a retry
    after a lost answer) gets the same answer and writes nothing."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    operation = models.CharField(_("operation"), max_length=100)
    key = models.CharField(_("key"), max_length=IDEMPOTENCY_KEY_MAX_LENGTH)
    request_hash = models.CharField(_("request hash"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("response status"))
    response_body = models.TextField(_("response body"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    objects = IdempotencyKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "operation", "key"], name="idempotency_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.key}"

    def is_expired(self) -> bool:
        return self.created_at < timezone.now() - IDEMPOTENCY_KEY_LIFETIME
