"""The audit trail moved from privacy to audit: a database migrated before the move
migrates after it and keeps every entry and every grant on them."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tendero.audit.models import AuditEntry

BEFORE_THE_MOVE = [("privacy", "0002_audit_fewer_indexes"), ("audit", None)]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


@pytest.mark.django_db(transaction=True)
def test_a_database_migrated_before_the_move_keeps_its_entries_and_grants():
    grant = Permission.objects.get(content_type__app_label="audit", codename="view_auditentry")
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        old = _migrate(BEFORE_THE_MOVE)
        old_content_types = old.get_model("contenttypes", "ContentType")
        assert old_content_types.objects.get(pk=grant.content_type_id).app_label == "privacy"
        customers = old_content_types.objects.get(app_label="customers", model="customer")
        old.get_model("privacy", "AuditEntry").objects.create(
            content_type_id=customers.pk,
            object_pk="7",
            object_id=7,
            object_repr="Ferretería Ruiz",
            action=0,
            customer_id=7,
        )
    finally:
        _migrate(latest)
    ContentType.objects.clear_cache()
    entry = AuditEntry.objects.for_customer(7).get()
    assert (entry.object_repr, entry.action) == ("Ferretería Ruiz", AuditEntry.Action.CREATE)
    assert AuditEntry._meta.db_table == "audit_auditentry"
    moved = Permission.objects.get(pk=grant.pk)
    assert (moved.content_type.app_label, moved.codename) == ("audit", "view_auditentry")
