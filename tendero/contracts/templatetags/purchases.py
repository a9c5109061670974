"""Money as people read it in their language: 1.234,56 € in Spanish, €1,234.56 in
English (babel, from the active language)."""

from decimal import Decimal, InvalidOperation
from typing import Any

from babel import UnknownLocaleError
from babel.numbers import format_currency
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


@register.filter(name="money")
def money(amount: Any, currency: str = "") -> str:
    return format_money(amount, currency)


@register.filter(name="purchase_source")
def purchase_source(code: str) -> str:
    try:
        return str(PurchaseSource(code).label)
    except ValueError:
        return code
