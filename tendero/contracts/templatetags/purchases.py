"""Money and units as people read them in their language: 1.234,56 € and 1.234,5
units in Spanish, €1,234.56 and 1,234.5 in English (babel, from the active language)."""

from decimal import Decimal, InvalidOperation
from typing import Any

from babel import UnknownLocaleError
from babel.numbers import format_currency, format_decimal
from django import template
from django.utils import translation

from tendero.contracts.models import PurchaseSource

register = template.Library()


def format_money(amount: Any, currency: str) -> str:
    """`amount` (a Decimal, number or text) in `currency`, for the active language."""
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount).strip())
    except (InvalidOperation, ValueError):
        return str(amount)
    if not value.is_finite():
        return str(amount)
    locale = translation.to_locale(translation.get_language() or "en")
    try:
        return format_currency(value, currency or "", locale=locale)
    except (ValueError, LookupError, UnknownLocaleError):
        return f"{value:.2f} {currency}".strip()


def format_units(quantity: Any) -> str:
    """A quantity (a Decimal, number or text) for the active language, without the
    zeros its three decimals leave: "2", "1,5" in Spanish, "-1"."""
    try:
        value = quantity if isinstance(quantity, Decimal) else Decimal(str(quantity).strip())
    except (InvalidOperation, ValueError):
        return str(quantity)
    if not value.is_finite():
        return str(quantity)
    # normalize() alone writes 1000 as 1E+3.
    value = value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
    locale = translation.to_locale(translation.get_language() or "en")
    try:
        return format_decimal(value, locale=locale)
    except (ValueError, LookupError, UnknownLocaleError):
        return str(value)


@register.filter(name="units")
def units(quantity: Any) -> str:
    return format_units(quantity)


@register.filter(name="money")
def money(amount: Any, currency: str = "") -> str:
    return format_money(amount, currency)


@register.filter(name="purchase_source")
def purchase_source(code: str) -> str:
    try:
        return str(PurchaseSource(code).label)
    except ValueError:
        return code
