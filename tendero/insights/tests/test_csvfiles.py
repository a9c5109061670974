"""The CSV files of `tendero clv`: read by a columnar parser, and every problem still
named by its line, column and value, as the careful row-by-row pass names it."""

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tendero.insights import csvfiles
from tendero.insights.csvfiles import BadFile, read_summary, read_transactions

LARGE = 200_000


def _summary_lines(rows: int) -> list[str]:
    return ["customer_id,frequency,recency,T,monetary_value"] + [
        f"C{index},{index % 7},{(index % 7) * 1.5},{12 + index % 5}.25,{index % 3 * 10}"
        for index in range(rows)
    ]


@pytest.fixture(scope="module")
def large_summary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("summary") / "large.csv"
    path.write_text("\n".join(_summary_lines(LARGE)) + "\n")
    return path


@pytest.fixture
def without_row_by_row_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the row-by-row pass ran on a file without problems")

    monkeypatch.setattr(csvfiles, "_rows", refuse)


def _careful(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the columnar parser fail so that every file takes the row-by-row pass."""

    def unavailable(*args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr(csvfiles, "_columnar", unavailable)


def test_a_large_summary_is_read_without_the_row_by_row_pass(
    large_summary: Path, without_row_by_row_pass: None
) -> None:
    table = read_summary(large_summary)
    assert len(table) == LARGE
    index = np.arange(LARGE)
    assert np.array_equal(table.frequency, index % 7)
    assert np.array_equal(table.recency, (index % 7) * 1.5)
    assert np.array_equal(table.T, 12.25 + index % 5)
    assert table.monetary_value is not None
    assert np.array_equal(table.monetary_value, index % 3 * 10)
    assert table.customer_id is not None and table.customer_id[:2] == ["C0", "C1"]
    assert table.customer_id[-1] == f"C{LARGE - 1}"
    assert table.frequency.dtype == np.float64


def test_a_summary_can_be_read_without_its_ids(
    large_summary: Path, without_row_by_row_pass: None
) -> None:
    assert read_summary(large_summary, customer_ids=False).customer_id is None


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("x", "recency is not a number: 'x'"),
        ("", "recency is not a number: ''"),
        ("-1", "recency must be a non-negative number"),
        ("nan", "recency must be a non-negative number"),
        ("inf", "recency must be a non-negative number"),
    ],
)
def test_a_bad_value_deep_in_a_large_summary_is_named_by_its_line(
    tmp_path: Path, cell: str, message: str
) -> None:
    lines = _summary_lines(LARGE)
    row = 150_000
    lines[row] = f"C{row},2,{cell},20,5"
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadFile) as caught:
        read_summary(path)
    # The header is line 1, so list index `row` is line row + 1.
    assert caught.value.message == f"{path}, line {row + 1}: {message}"


@pytest.mark.parametrize(
    "text",
    [
        "customer_id,frequency,recency,T\nC1,1,2,3\nC2,1,2,3,4\n",
        "customer_id,frequency,recency,T\nC1,1,2,3\nC2,1,2\n",
        "customer_id,frequency,recency,T\nC1,1,2,3\n\nC2,2,3,4\n",
        "customer_id,frequency,recency,T\n C1 , 1 ,2.5, 3\n",
        "customer_id,frequency,recency,T\nC1,1_0,2,30\n",
        "customer_id,frequency,recency,T\nC1,\u0661,2,3\n",
        "customer_id,frequency,recency,T\nC1,+1,.5,3.\n",
        "customer_id,frequency,recency,T\nC1,1e400,2,3\n",
        "customer_id,frequency,recency,T\nC1,1E-400,0,3\n",
        "customer_id,frequency,recency,T\nC1,-0,0,3\n",
        'customer_id,frequency,recency,T\n"C,1","1","2",3\n',
        "customer_id,frequency,recency,T\n",
        "\ufeffcustomer_id,frequency , recency,T\nC1,1,2,3\n",
        "customer_id,frequency,recency,T,note\nC1,1,2,3,Jos\xe9\n",
        "ID,frequency,recency,periods,weights\n,1,1,6,10\n",
        "frequency,recency,T\r\n1,2,3\r\n",
    ],
)
def test_the_columnar_reader_agrees_with_the_row_by_row_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    path = tmp_path / "summary.csv"
    path.write_bytes(text.encode("latin-1") if "\xe9" in text else text.encode())

    def outcome() -> Any:
        try:
            table = read_summary(path)
        except BadFile as exc:
            return exc.message
        return (
            table.frequency.tolist(), table.recency.tolist(), table.T.tolist(),
            table.customer_id, None if table.weights is None else table.weights.tolist(),
        )  # fmt: skip

    fast = outcome()
    _careful(monkeypatch)
    assert outcome() == fast


def test_whitespace_around_column_names_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "summary.csv"
    path.write_text(" customer_id , frequency,recency ,T\nC1,1,2,3\n")
    table = read_summary(path)
    assert table.customer_id == ["C1"] and table.recency.tolist() == [2.0]


def _transaction_lines(rows: int) -> list[str]:
    return ["customer_id,date,amount"] + [
        f"c{index % 5000},2024-{1 + index % 12:02d}-{1 + index % 28:02d},{index % 100}.5"
        for index in range(rows)
    ]


def test_large_transactions_are_read_without_the_row_by_row_pass(
    tmp_path: Path, without_row_by_row_pass: None
) -> None:
    path = tmp_path / "transactions.csv"
    path.write_text("\n".join(_transaction_lines(LARGE)) + "\n")
    purchases = read_transactions(path)
    assert len(purchases) == LARGE
    assert purchases[0] == ("c0", date(2024, 1, 1), 0.5)
    assert purchases[-1] == ("c4999", date(2024, 8, 24), 99.5)
    assert type(purchases[1][1]) is date and type(purchases[1][2]) is float


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("c1,01/02/2024,3", "not a date (YYYY-MM-DD or ISO date and time): '01/02/2024'"),
        ("c1,2024-02-30,3", "not a date (YYYY-MM-DD or ISO date and time): '2024-02-30'"),
        ("c1,2024-02-01,ten", "not an amount: 'ten'"),
        ("c1,2024-02-01,NaN", "not an amount: 'NaN'"),
        (" ,2024-02-01,1", "customer_id is empty"),
        ("c1,2024-02-01,1,2", "more values than columns"),
    ],
)
def test_a_bad_purchase_deep_in_a_large_file_is_named_by_its_line(
    tmp_path: Path, cell: str, message: str
) -> None:
    lines = _transaction_lines(LARGE)
    row = 190_001
    lines[row] = cell
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadFile) as caught:
        read_transactions(path)
    assert caught.value.message == f"{path}, line {row + 1}: {message}"


@pytest.mark.parametrize(
    "text",
    [
        "customer_id,date,amount\nana,2024-01-08T18:30:00+01:00,7.5\nbob,2024-01-01,1\n",
        "customer_id,date,amount\nana,20240108,1_000\n",
        "customer_id,date,amount\nana,2024-W02-1,1\n",
        "customer_id,date,amount\nana, 2024-01-08 , 12.5 \n",
        "customer_id,date,amount\nana,0000-01-01,1\n",
        "customer_id,date,amount\nana,2024-01-08,1e400\n",
        "customer_id,date,amount\nana,2024-01-08,-3\n",
        "customer_id,date,amount,note\nana,2024-01-08,3,Jos\xe9\n",
        "customer_id,date,amount\n",
    ],
)
def test_the_columnar_transactions_reader_agrees_with_the_row_by_row_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    path = tmp_path / "transactions.csv"
    path.write_bytes(text.encode("latin-1") if "\xe9" in text else text.encode())

    def outcome() -> Any:
        try:
            return read_transactions(path)
        except BadFile as exc:
            return exc.message

    fast = outcome()
    _careful(monkeypatch)
    assert outcome() == fast
