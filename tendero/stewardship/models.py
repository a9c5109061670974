"""Looking after the customer base as a whole: possible duplicates found by a
nightly task and the merges that resolved them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tendero.customers.models import Customer

if TYPE_CHECKING:
    from tendero.accounts.models import User


class CustomerMerge(models.Model):
    """A merge of a duplicate into the customer that survived it, with a snapshot
    of the duplicate as it was (the duplicate row itself is gone)."""

    survivor = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges")
    merged_customer_id = models.BigIntegerField()
    merged_display_name = models.CharField(max_length=200)
    snapshot = models.JSONField(default=dict)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    merged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-merged_at", "-id"]

    def __str__(self) -> str:
        return f"{self.merged_display_name} → {self.survivor}"

    def get_additional_data(self) -> dict[str, Any]:
        return {"customer_id": self.survivor_id}


class DuplicateReason(models.TextChoices):
    EMAIL = "email", _("Same email")
    PHONE = "phone", _("Same phone")
    TAX_ID = "tax_id", _("Same tax id")
    NAME = "name", _("Same name")
    SIMILAR_NAME = "similar_name", _("Similar name")


class DuplicatePairQuerySet(models.QuerySet["DuplicatePair"]):
    def open(self) -> DuplicatePairQuerySet:
        return self.filter(dismissed_at__isnull=True)

    def visible_to(self, user: User | Any) -> DuplicatePairQuerySet:
        visible = Customer.objects.visible_to(user)
        return self.filter(first__in=visible, second__in=visible)


class DuplicatePair(models.Model):
    """Two customers that are probably one (first.id < second.id). Detected by a
    task; a person merges them or dismisses the pair."""

    first = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    reasons = models.JSONField(default=list)
    score = models.PositiveSmallIntegerField(default=0)
    detected_at = models.DateTimeField(default=timezone.now)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = DuplicatePairQuerySet.as_manager()

    class Meta:
        ordering = ["-score", "-detected_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="duplicate_pair_unique"),
            models.CheckConstraint(
                condition=models.Q(first__lt=models.F("second")), name="duplicate_pair_ordered"
            ),
        ]
        indexes = [models.Index(fields=["second"], name="duplicate_pair_second_idx")]

    def __str__(self) -> str:
        return f"{self.first_id} ~ {self.second_id}"
