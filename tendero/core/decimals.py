"""One rule for reading a decimal number that will be stored in a DecimalField, whatever
the way in (API schemas, forms, imports, commands).

A DecimalField(max_digits, decimal_places) holds numbers below 10 ** (max_digits -
decimal_places) with at most `decimal_places` decimals. Python's decimals carry any
exponent ("1e30", 1.797e308 as a float), and the arithmetic Tendero does with them
(quantize to cents, sums) works within 28 significant digits: an amount of 1e26
quantized to cents raises decimal.InvalidOperation, a server error. So a number is
checked from its digits and exponent alone (Decimal.as_tuple and adjusted, which do
no arithmetic) before anything computes with it, and is refused with a message a
person understands: too large, too many decimals, not a number (NaN and Infinity are
not numbers).

The refusal is a ValidationError with a code ("not_a_number", "too_large",
"too_many_decimals") so that a field may say it in its own words.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Longer text is not a number anybody typed (and would only cost time to read).
MAX_TEXT_LENGTH = 100


def to_decimal(value: Any) -> Decimal:
    """`value` (a Decimal, an int, a float or a plain numeric text such as "-12.50"
    or "1e3") as a Decimal, exactly (a float as its shortest text: 0.1 is 0.1).
    Raises ValidationError "not_a_number" for anything else, booleans, NaN and
    Infinity included."""
    number: Decimal
    if isinstance(value, bool):
        raise _not_a_number()
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str) and len(value) <= MAX_TEXT_LENGTH and "_" not in value:
        # (Python reads "1_000" as a thousand; nobody writes amounts that way.)
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise _not_a_number() from None
    else:
        raise _not_a_number()
    if not number.is_finite():
        raise _not_a_number()
    return number


def check_decimal(number: Decimal, max_digits: int, decimal_places: int) -> Decimal:
    """`number` rounded to `decimal_places` (only trailing zeros go) if a
    DecimalField(max_digits, decimal_places) holds it; raises ValidationError
    ("too_large", "too_many_decimals", "not_a_number") otherwise. Checks digits and
    exponent before any arithmetic."""
    if not number.is_finite():
        raise _not_a_number()
    _sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    if any(digits):
        check_size(number, max_digits - decimal_places)
        extra = -exponent - decimal_places
        if extra > 0 and any(digits[-extra:]):
            raise ValidationError(
                ngettext(
                    "At most %(places)d decimal.", "At most %(places)d decimals.", decimal_places
                )
                % {"places": decimal_places},
                code="too_many_decimals",
            )
    else:
        number = Decimal(0)  # whatever its exponent or sign ("-0e999")
    # Safe now: at most max_digits significant digits.
    return number.quantize(Decimal(1).scaleb(-decimal_places))


def check_size(number: Decimal, whole_digits: int) -> Decimal:
    """`number` if it has at most `whole_digits` digits before the decimal point;
    raises ValidationError "too_large" otherwise (no arithmetic: its exponent says)."""
    if number.is_finite() and any(number.as_tuple().digits) and number.adjusted() >= whole_digits:
        raise _too_large(whole_digits)
    return number


def _too_large(whole_digits: int) -> ValidationError:
    return ValidationError(
        ngettext(
            "This number is too large: at most %(digits)d digit before the decimal point.",
            "This number is too large: at most %(digits)d digits before the decimal point.",
            whole_digits,
        )
        % {"digits": whole_digits},
        code="too_large",
    )


def parse_decimal(value: Any, max_digits: int, decimal_places: int) -> Decimal:
    """`value` (see to_decimal) as a number a DecimalField(max_digits, decimal_places)
    holds, with exactly `decimal_places` decimals. Raises ValidationError with the
    code "not_a_number", "too_large" or "too_many_decimals"."""
    return check_decimal(to_decimal(value), max_digits, decimal_places)


def _not_a_number() -> ValidationError:
    return ValidationError(_("Enter a number."), code="not_a_number")


def decimal_field(max_digits: int, decimal_places: int) -> Any:
    """A pydantic BeforeValidator for a schema's Decimal field (Annotated[Decimal,
    decimal_field(14, 2)]): a JSON number or a numeric string becomes a Decimal, and
    one too large for the column, NaN or Infinity is refused there (422) with
    parse_decimal's message, before pydantic or anything else computes with it.
    The decimals are left to the service, which says it in the field's words with
    the other field errors. Other types are left for pydantic to refuse."""
    from pydantic import BeforeValidator
    from pydantic_core import PydanticCustomError

    def validate(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            return value
        try:
            return check_size(to_decimal(value), max_digits - decimal_places)
        except ValidationError as error:
            raise PydanticCustomError(str(error.code), error.messages[0]) from None

    return BeforeValidator(validate)
