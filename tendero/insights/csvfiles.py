"""The CSV files of `tendero clv`: dated purchases in, customer summaries in and out.

Their shape is a stable interface (people and scripts use it):

- transactions: header `customer_id,date,amount`; date `YYYY-MM-DD` or an ISO
  date and time (which counts on its own calendar day); amount a decimal number.
- summaries: header `customer_id,frequency,recency,T,monetary_value`. When
  read, `customer_id` (or `ID`/`id`), `monetary_value` and `weights` are
  optional, and BG/BB summaries have `periods` instead of `T`.

Every problem is a `BadFile` with a one-line message naming the file and row.

Files are read by pyarrow's CSV parser, column by column in C: 1,000,000 summary rows
in about 0.15 s, where the row-by-row `csv.DictReader` pass took 2.5 s (bench/RESULTS.md
has the measurements, numpy's and polars' parsers among them). The row-by-row pass
stays as the reference: whenever the columnar parse fails or yields a value the pass
would refuse (a word for a number, nan, a negative count, a date written another way),
the file is read again row by row, which either names the first bad line, column and
value, or accepts what the fast parser did not know (`1_000`, an ISO date and time).
So both readings accept and refuse the same files, with the same messages.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

import numpy as np

from tendero.core.spreadsheets import CsvWriter
from tendero.insights.clv import TransactionSummary
from tendero.insights.clv.estimation import FloatArray

if TYPE_CHECKING:
    import pyarrow as pa

TRANSACTION_COLUMNS = ("customer_id", "date", "amount")
SUMMARY_COLUMNS = ("customer_id", "frequency", "recency", "T", "monetary_value")
ID_COLUMNS = ("customer_id", "id")


class TextSink(Protocol):
    """Where CSV text goes: a file, or a command's standard output."""

    def write(self, text: str, /) -> Any: ...


class BadFile(Exception):
    """A file that cannot be used, with a message a person understands."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class SummaryTable:
    """A summary file's columns; `T` holds BG/BB's `periods` for BG/BB files."""

    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    customer_id: list[str] | None = None
    monetary_value: FloatArray | None = None
    weights: FloatArray | None = None
    extra: dict[str, FloatArray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frequency)

    @property
    def n_customers(self) -> float:
        return float(self.weights.sum()) if self.weights is not None else float(len(self))


def parse_day(text: str) -> date:
    """`YYYY-MM-DD` as a date; raise ValueError with a readable message otherwise."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV file with a header; BadFile when unreadable.

    The row-by-row pass: slow, and the one that names a bad file's line.
    """
    try:
        handle: IO[str] = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise BadFile(f"cannot read {path}: {exc.strerror or exc}") from exc
    with handle:
        try:
            reader = csv.DictReader(handle)
            if not reader.fieldnames:
                raise BadFile(f"{path} is empty: it needs a header line")
            reader.fieldnames = [name.strip() for name in reader.fieldnames]
            for row in reader:
                if None in row:
                    raise BadFile(f"{path}, line {reader.line_num}: more values than columns")
                yield reader.line_num, row
        except UnicodeDecodeError as exc:
            raise BadFile(f"{path} is not UTF-8 text") from exc
        except csv.Error as exc:
            raise BadFile(f"{path}: {exc}") from exc


def _raw_header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle), [])
    except OSError as exc:
        raise BadFile(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BadFile(f"{path} is not a UTF-8 CSV file") from exc


def _header(path: Path) -> list[str]:
    return [name.strip() for name in _raw_header(path)]


def _columnar(path: Path, types: dict[str, str]) -> dict[str, pa.ChunkedArray] | None:
    """The named columns of the file, parsed by pyarrow as `types` says ("float64",
    "date32"; every other column is checked to be UTF-8 text), or None when pyarrow
    cannot parse them all: then the row-by-row pass decides.

    Empty cells are not missing values but unparseable ones, as in the row-by-row pass.
    """
    import pyarrow as pa
    from pyarrow import csv as arrow_csv

    raw = _raw_header(path)
    header = [name.strip() for name in raw]
    if len(set(header)) != len(header):
        return None
    arrow_types = {"float64": pa.float64(), "date32": pa.date32(), "string": pa.string()}
    column_types = {
        name: arrow_types[types.get(stripped, "string")]
        for name, stripped in zip(raw, header, strict=True)
    }
    try:
        table = arrow_csv.read_csv(
            str(path),
            convert_options=arrow_csv.ConvertOptions(
                column_types=column_types,
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=True,
            ),
        )
    except (pa.ArrowException, ValueError, OverflowError):
        return None
    if table.column_names != raw:
        return None
    columns = {name: table.column(index) for index, name in enumerate(header) if name in types}
    if any(column.null_count for column in columns.values()):
        return None
    return columns


def _floats(column: pa.ChunkedArray) -> FloatArray:
    """A float64 column (without missing values, as `_columnar` returns them) as one
    writable numpy array.

    Copied from the chunks' data buffers: pyarrow's own to_numpy imports pandas
    when it is installed (0.4 s of start-up), though it does not use it here.
    """
    parts = [
        np.frombuffer(chunk.buffers()[1], np.float64, count=len(chunk), offset=chunk.offset * 8)
        for chunk in column.chunks
    ]
    return np.concatenate(parts) if parts else np.zeros(0)


def _stripped(column: pa.ChunkedArray) -> list[str]:
    # Python's strip, as the row-by-row pass: pyarrow's trims fewer kinds of space.
    return [text.strip() for text in column.to_pylist()]


def read_transactions(path: Path) -> list[tuple[str, date, float]]:
    """The (customer_id, day, amount) rows of a transactions file."""
    header = _header(path)
    missing = [name for name in TRANSACTION_COLUMNS if name not in header]
    if missing:
        wanted = ",".join(TRANSACTION_COLUMNS)
        raise BadFile(f"{path} needs the columns {wanted}; missing {', '.join(missing)}")
    columns = _columnar(path, {"customer_id": "string", "date": "date32", "amount": "float64"})
    if columns is not None:
        customers = _stripped(columns["customer_id"])
        amounts = _floats(columns["amount"])
        if customers and all(customers) and np.isfinite(amounts).all():
            try:
                days = columns["date"].to_pylist()
            except (ValueError, OverflowError):  # year 0, which Python's dates do not have
                pass
            else:
                return list(zip(customers, days, amounts.tolist(), strict=True))
    return _transactions_row_by_row(path)


def _transactions_row_by_row(path: Path) -> list[tuple[str, date, float]]:
    purchases = []
    for line, row in _rows(path):
        customer = (row["customer_id"] or "").strip()
        if not customer:
            raise BadFile(f"{path}, line {line}: customer_id is empty")
        text = (row["date"] or "").strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise BadFile(
                f"{path}, line {line}: not a date (YYYY-MM-DD or ISO date and time): {text!r}"
            ) from None
        day = moment.date()
        try:
            amount = Decimal((row["amount"] or "").strip())
        except InvalidOperation:
            raise BadFile(f"{path}, line {line}: not an amount: {row['amount']!r}") from None
        if not amount.is_finite():
            raise BadFile(f"{path}, line {line}: not an amount: {row['amount']!r}")
        purchases.append((customer, day, float(amount)))
    if not purchases:
        raise BadFile(f"{path} has no purchases")
    return purchases


def read_summary(path: Path, *, periods: bool = False, customer_ids: bool = True) -> SummaryTable:
    """A summary file's columns (`periods` instead of `T` when `periods` is true), and
    its customer ids unless `customer_ids` is false."""
    header = _header(path)
    age_column = "periods" if periods else "T"
    required = ("frequency", "recency", age_column)
    missing = [name for name in required if name not in header]
    if missing:
        raise BadFile(
            f"{path} needs the columns {','.join(required)}; missing {', '.join(missing)}"
        )
    id_column = next((name for name in header if name.lower() in ID_COLUMNS), None)
    optional = [name for name in ("monetary_value", "weights") if name in header]
    names = (*required, *optional)
    id_column = id_column if customer_ids else None
    types = dict.fromkeys(names, "float64")
    if id_column:
        types[id_column] = "string"
    parsed = _columnar(path, types)
    if parsed is not None:
        columns = {name: _floats(parsed[name]) for name in names}
        if len(columns["frequency"]) and all(
            (np.isfinite(values) & (values >= 0)).all() for values in columns.values()
        ):
            ids = _stripped(parsed[id_column]) if id_column else None
            return _summary_table(columns, age_column, ids)
    columns, ids = _summary_row_by_row(path, names, id_column)
    return _summary_table(columns, age_column, ids)


def _summary_row_by_row(
    path: Path, names: Sequence[str], id_column: str | None
) -> tuple[dict[str, FloatArray], list[str] | None]:
    numbers: dict[str, list[float]] = {name: [] for name in names}
    ids: list[str] = []
    for line, row in _rows(path):
        for name, values in numbers.items():
            text = (row[name] or "").strip()
            try:
                value = float(text)
            except ValueError:
                raise BadFile(f"{path}, line {line}: {name} is not a number: {text!r}") from None
            if not math.isfinite(value) or value < 0:
                raise BadFile(f"{path}, line {line}: {name} must be a non-negative number")
            values.append(value)
        if id_column:
            ids.append((row[id_column] or "").strip())
    if not numbers["frequency"]:
        raise BadFile(f"{path} has no customers")
    columns = {name: np.array(values, dtype=np.float64) for name, values in numbers.items()}
    return columns, ids if id_column else None


def _summary_table(
    columns: dict[str, FloatArray], age_column: str, ids: list[str] | None
) -> SummaryTable:
    return SummaryTable(
        frequency=columns["frequency"],
        recency=columns["recency"],
        T=columns[age_column],
        customer_id=ids,
        monetary_value=columns.get("monetary_value"),
        weights=columns.get("weights"),
    )


def _number(value: float) -> str:
    """Shortest exact text of a float; whole numbers without a decimal point."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def write_summary(summary: TransactionSummary, handle: TextSink) -> None:
    writer = CsvWriter(handle, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for index, customer in enumerate(summary.customer_id):
        writer.writerow(
            [
                customer,
                _number(summary.frequency[index]),
                _number(summary.recency[index]),
                _number(summary.T[index]),
                _number(summary.monetary_value[index]),
            ]
        )


def write_columns(
    handle: TextSink, columns: Sequence[tuple[str, Sequence[object] | FloatArray]]
) -> None:
    """A CSV with one column per (name, values); floats in their shortest exact form."""
    writer = CsvWriter(handle, lineterminator="\n")
    writer.writerow([name for name, _ in columns])
    count = len(columns[0][1]) if columns else 0
    for index in range(count):
        writer.writerow(
            [
                _number(float(value)) if isinstance(value, float | np.floating) else value
                for value in (values[index] for _, values in columns)
            ]
        )
