"""The audit trail: every create, update and delete of customer data."""

from typing import Any

from auditlog.models import AbstractLogEntry, LogEntryManager
from django.db import models


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def for_customer(self, customer_id: int) -> "AuditEntryQuerySet":
        return self.filter(customer_id=customer_id)


class AuditEntry(AbstractLogEntry):
    """django-auditlog's entry plus the customer it concerns, indexed, so that a
    customer's history (their contacts', emails'... included) is one query."""

    customer_id = models.BigIntegerField(null=True, blank=True)

    objects = LogEntryManager.from_queryset(AuditEntryQuerySet)()

    class Meta(AbstractLogEntry.Meta):
        indexes = [models.Index(fields=["customer_id", "-timestamp"], name="audit_customer_idx")]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.customer_id is None and isinstance(self.additional_data, dict):
            self.customer_id = self.additional_data.get("customer_id")
        super().save(*args, **kwargs)

    @property
    def field_changes(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) triples, for display."""
        changes = self.changes or {}
        rows = []
        for field, values in changes.items():
            if isinstance(values, list | tuple) and len(values) == 2:
                rows.append((field, values[0], values[1]))
            elif isinstance(values, dict):
                rows.append((field, values.get("objects", ""), values.get("type", "")))
        return rows
