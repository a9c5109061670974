"""The audit trail: every create, update and delete of customer data."""

from typing import Any

from auditlog.models import AbstractLogEntry, LogEntryManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def for_customer(self, customer_id: int) -> "AuditEntryQuerySet":
        return self.filter(customer_id=customer_id)


class AuditEntry(AbstractLogEntry):
    """django-auditlog's entry plus the customer it concerns, indexed, so that a
    customer's history (their contacts', emails'... included) is one query."""

    customer_id = models.BigIntegerField(null=True, blank=True)

    # django-auditlog indexes six columns on their own (and two of them twice more for
    # LIKE). The trail is written on every change and read by customer, by object
    # (content type and id, as auditlog looks entries up), by time, actor and
    # correlation id: these fields drop their own indexes for the ones in Meta.
    content_type = models.ForeignKey(
        to="contenttypes.ContentType",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("content type"),
        db_index=False,
    )
    object_pk = models.CharField(max_length=255, verbose_name=_("object pk"))
    object_id = models.BigIntegerField(blank=True, null=True, verbose_name=_("object id"))
    action = models.PositiveSmallIntegerField(
        choices=AbstractLogEntry.Action.choices, verbose_name=_("action")
    )
    cid = models.CharField(max_length=255, blank=True, null=True, verbose_name=_("Correlation ID"))

    objects = LogEntryManager.from_queryset(AuditEntryQuerySet)()

    class Meta(AbstractLogEntry.Meta):
        indexes = [
            models.Index(fields=["customer_id", "-timestamp"], name="audit_customer_idx"),
            models.Index(fields=["content_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["cid"], name="audit_cid_idx"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.customer_id is None and isinstance(self.additional_data, dict):
            self.customer_id = self.additional_data.get("customer_id")
        super().save(*args, **kwargs)

    @property
    def field_changes(self) -> list[tuple[str, str, str]]:
        """(field, before, after) as text, the one reading of django-auditlog's format:
        a many-to-many change (tags) as the objects removed (before) or added (after),
        and auditlog's text for "no value" ("None") as empty."""
        changes = self.changes if isinstance(self.changes, dict) else {}
        rows = []
        for field, values in changes.items():
            if isinstance(values, dict):
                names = ", ".join(str(name) for name in values.get("objects", []))
                removed = values.get("operation") == "delete"
                rows.append((field, names if removed else "", "" if removed else names))
            elif isinstance(values, list | tuple) and len(values) == 2:
                rows.append((field, _as_text(values[0]), _as_text(values[1])))
        return rows


def _as_text(value: Any) -> str:
    text = "" if value is None else str(value)
    return "" if text == "None" or text.endswith(".None") else text
