"""The audit entries of a bulk write (an import, a purchase batch): COPY on
PostgreSQL, the columns they share prepared once."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections

from tendero.audit.models import AuditEntry
from tendero.core.bulk import CopyText


@dataclass(frozen=True)
class AuditRow:
    """What differs between the audit entries of one bulk write."""

    object_id: int
    customer_id: int | None
    object_repr: str
    changes: dict[str, Any]
    additional_data: dict[str, Any]
    action: int | None = None  # None: the template's


def copy_audit_entries(template: Any, rows: Iterable[AuditRow]) -> None:
    """One AuditEntry per row, on PostgreSQL by COPY: the columns they share (action,
    content type, actor, time, correlation id...) prepared once from `template`, an
    unsaved AuditEntry; the rest from each row. Elsewhere, bulk_create."""
    rows = list(rows)
    if not rows:
        return
    if connection.vendor != "postgresql":
        entries = []
        for row in rows:
            entry = AuditEntry(
                **{
                    f.attname: getattr(template, f.attname)
                    for f in AuditEntry._meta.concrete_fields
                    if not f.primary_key
                }
            )
            entry.object_pk, entry.object_id = str(row.object_id), row.object_id
            entry.customer_id = row.customer_id
            entry.object_repr = row.object_repr[:500]
            entry.changes, entry.additional_data = row.changes, row.additional_data
            if row.action is not None:
                entry.action = row.action
            entries.append(entry)
        AuditEntry.objects.bulk_create(entries)
        return
    fields = [f for f in AuditEntry._meta.concrete_fields if not f.primary_key]
    real = connections[DEFAULT_DB_ALIAS]
    defaults = [f.get_db_prep_save(getattr(template, f.attname), real) for f in fields]
    at = {f.attname: i for i, f in enumerate(fields)}
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column or f.attname) for f in fields)
    sql = f"COPY {quote(AuditEntry._meta.db_table)} ({names}) FROM STDIN"
    with connection.cursor() as cursor:
        text = CopyText(cursor.cursor)
        common = [text(value) for value in defaults]
        lines = []
        for row in rows:
            values = list(common)
            values[at["object_pk"]] = values[at["object_id"]] = str(row.object_id)
            values[at["customer_id"]] = text(row.customer_id)
            values[at["object_repr"]] = text(row.object_repr[:500])
            if row.action is not None:
                values[at["action"]] = str(row.action)
            # The JSON columns (no encoder of their own) as json.dumps writes them, but
            # with accents as they are: fewer characters to send and nothing to escape.
            values[at["changes"]] = text(json.dumps(row.changes, ensure_ascii=False))
            values[at["additional_data"]] = text(json.dumps(row.additional_data))
            lines.append("\t".join(values))
        with cursor.cursor.copy(sql) as copy:
            copy.write("\n".join(lines) + "\n")
