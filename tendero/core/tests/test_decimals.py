"""The one rule for decimal input: too large, too many decimals and not a number are
refused from digits and exponent, before any arithmetic."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from tendero.core.decimals import parse_decimal


@pytest.mark.parametrize(
    "value",
    ["1e26", "1e30", 1.797e308, 1e25, 10**30, "9" * 60, "1e999999999999999999", "-1E+13"],
)
def test_huge_numbers_are_too_large(value) -> None:
    with pytest.raises(ValidationError) as error:
        parse_decimal(value, 14, 2)
    assert error.value.code == "too_large"
    assert "too large" in error.value.messages[0]


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-Infinity", float("nan"), True, "", "abc",
                                   "1_000", [], None, "1" * 200])  # fmt: skip
def test_what_is_not_a_number_is_said_so(value) -> None:
    with pytest.raises(ValidationError) as error:
        parse_decimal(value, 14, 2)
    assert error.value.code == "not_a_number"


@pytest.mark.parametrize("value", ["0.001", "1e-1000000", Decimal("12.345")])
def test_too_many_decimals(value) -> None:
    with pytest.raises(ValidationError) as error:
        parse_decimal(value, 14, 2)
    assert error.value.code == "too_many_decimals"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.5", Decimal("12.50")),
        ("1.000", Decimal("1.00")),
        (" -3 ", Decimal("-3.00")),
        (0.1, Decimal("0.10")),
        (7, Decimal("7.00")),
        ("999999999999.99", Decimal("999999999999.99")),
        ("-0e999", Decimal("0.00")),
        ("1.5e3", Decimal("1500.00")),
    ],
)
def test_numbers_that_fit_come_back_with_their_decimals(value, expected) -> None:
    assert parse_decimal(value, 14, 2) == expected
    assert parse_decimal(value, 14, 2).as_tuple().exponent == -2


@given(st.decimals(allow_nan=True, allow_infinity=True) | st.floats() | st.integers())
def test_parsing_never_fails_with_anything_but_a_validation_error(value) -> None:
    try:
        number = parse_decimal(value, 12, 3)
    except ValidationError:
        return
    assert abs(number) < 10**9
    assert number.as_tuple().exponent == -3


@given(st.decimals(min_value=-(10**12) + 1, max_value=10**12 - 1, places=2))
def test_every_number_a_column_holds_is_accepted(value: Decimal) -> None:
    assert parse_decimal(value, 14, 2) == value
    assert parse_decimal(str(value), 14, 2) == value
