"""Bulk writes of generated rows, for the seeder: a model's columns with the
defaults of those not provided, and a writer per database (PostgreSQL's binary
COPY, SQLite's executemany). Rows are tuples in the table's column order.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from django.db import connection, models


def date_format(postgres: bool) -> Callable[[date], Any]:
    return (lambda day: day) if postgres else date.isoformat


def timestamp_format(postgres: bool) -> Callable[[datetime], Any]:
    # psycopg dumps aware datetimes itself (in C); Django keeps them as naive UTC text
    # on SQLite.
    if postgres:
        return lambda moment: moment
    return lambda moment: moment.replace(tzinfo=None).isoformat(" ")


class Table:
    """A model's columns for bulk writes: the ones we provide, then every other
    concrete column with its default, so a field added later does not break seeding."""

    def __init__(self, model: type[models.Model], provided: Sequence[str]) -> None:
        fields = {f.attname: f for f in model._meta.concrete_fields}
        others = [f for name, f in fields.items() if name not in provided and not f.primary_key]
        self.name = model._meta.db_table
        self.columns = [str(fields[name].column) for name in provided]
        self.columns += [str(f.column) for f in others]
        self.defaults = tuple(_column_default(f) for f in others)


def _column_default(field: models.Field[Any, Any]) -> Any:
    value = field.get_default()
    if isinstance(value, datetime):
        return timestamp_format(connection.vendor == "postgresql")(value)
    return field.get_db_prep_save(value, connection)


class TableWriter:
    def write(self, table: Table, rows: Iterable[tuple[Any, ...]]) -> int:
        """Write `rows` (any iterable: it is consumed once) and return how many."""
        raise NotImplementedError


class CopyWriter(TableWriter):
    """PostgreSQL COPY in binary format: one stream per table and batch; psycopg
    encodes the rows in C and the server does not parse text (timestamps above all),
    which halves its work."""

    def __init__(self) -> None:
        self.types: dict[str, list[int]] = {}

    def _types(self, table: Table) -> list[int]:
        if table.name not in self.types:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT attname, atttypid FROM pg_attribute "
                    "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                    [table.name],
                )
                oids = dict(cursor.fetchall())
            self.types[table.name] = [int(oids[column]) for column in table.columns]
        return self.types[table.name]

    def write(self, table: Table, rows: Iterable[tuple[Any, ...]]) -> int:
        if isinstance(rows, list) and not rows:
            return 0
        types = self._types(table)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in table.columns)
        sql = f"COPY {quote(table.name)} ({columns}) FROM STDIN (FORMAT BINARY)"
        written = 0
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            copy.set_types(types)
            write_row = copy.write_row
            for row in rows:
                write_row(row)
                written += 1
        return written


class ExecuteManyWriter(TableWriter):
    CHUNK = 10_000

    def write(self, table: Table, rows: Iterable[tuple[Any, ...]]) -> int:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in table.columns)
        placeholders = ", ".join(["%s"] * len(table.columns))
        sql = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({placeholders})"  # noqa: S608
        written = 0
        iterator = iter(rows)
        with connection.cursor() as cursor:
            while chunk := list(itertools.islice(iterator, self.CHUNK)):
                cursor.executemany(sql, chunk)
                written += len(chunk)
        return written
