"""Models that moved out of customers/ into their own apps: a database migrated
before a move migrates after it and keeps every row, every grant on the model and
every audit entry about its rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tendero.knowledge.models import PersonalFact
from tendero.stewardship.models import CustomerMerge, DuplicatePair


@dataclass(frozen=True)
class Move:
    model: type[Any]
    source: str
    before: list[tuple[str, str | None]]  # the migration targets just before the move
    row: dict[str, Any]  # written through the old app's model
    customer_field: str = "customer_id"  # filled in with a customer's id


MOVES = [
    Move(
        PersonalFact,
        "customers",
        [("customers", "0014_import_job_runner_process"), ("knowledge", None)],
        {"kind": "interest", "text": "Sails on weekends"},
    ),
    Move(
        CustomerMerge,
        "customers",
        [("customers", "0015_personalfact_moved_to_knowledge"), ("stewardship", None)],
        {"merged_customer_id": 7, "merged_display_name": "Ferreteria Ruiz"},
        customer_field="survivor_id",
    ),
    Move(
        DuplicatePair,
        "customers",
        [("customers", "0015_personalfact_moved_to_knowledge"), ("stewardship", None)],
        {"second_id": None, "score": 90},
        customer_field="first_id",
    ),
]


def _migrate(targets: list[tuple[str, str | None]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(
        [(app, name) for app, name in targets if name is not None]
    ).apps


@pytest.mark.parametrize("move", MOVES, ids=lambda move: move.model.__name__)
@pytest.mark.django_db(transaction=True)
def test_a_database_migrated_before_the_move_keeps_its_rows_and_grants(move, make_customer):
    customer, other = make_customer(display_name="Ferretería Ruiz"), make_customer()
    written = {**move.row, move.customer_field: customer.pk}
    if "second_id" in written:  # a pair is of two customers, the older first
        written["second_id"] = other.pk
    meta = move.model._meta
    grant = Permission.objects.get(
        content_type__app_label=meta.app_label, codename=f"view_{meta.model_name}"
    )
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        old = _migrate(move.before)
        old_content_types = old.get_model("contenttypes", "ContentType")
        assert old_content_types.objects.get(pk=grant.content_type_id).app_label == move.source
        old_model = old.get_model(move.source, meta.object_name)
        assert old_model._meta.db_table == f"{move.source}_{meta.model_name}"
        row = old_model.objects.create(**written)
    finally:
        _migrate(latest)
    ContentType.objects.clear_cache()
    kept = move.model.objects.get(pk=row.pk)
    assert {field: getattr(kept, field) for field in written} == written
    assert meta.db_table == f"{meta.app_label}_{meta.model_name}"
    moved = Permission.objects.get(pk=grant.pk)
    assert (moved.content_type.app_label, moved.codename) == (meta.app_label, grant.codename)
