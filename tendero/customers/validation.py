"""Normalising what people type: phone numbers, emails, languages and currencies.
Each starts with tendero.core.text's rule for one-line fields, so that a control or
invisible character gets the same message here as in any other field."""

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django_countries import countries

from tendero.core.text import clean_line

DEFAULT_PHONE_REGION = "ES"
_CURRENCIES = frozenset(list_currencies())


def normalise_phone(raw: str, country: str = "") -> str:
    """Return the number in E.164 form; raise ValidationError if it is not a phone number."""
    text = clean_line(raw)
    try:
        parsed = phonenumbers.parse(text, (country or DEFAULT_PHONE_REGION).upper())
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("“%(value)s” is not a phone number.") % {"value": text}) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(_("“%(value)s” is not a valid phone number.") % {"value": text})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """International format for display: +34 612 34 56 78."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalise_email(raw: str) -> str:
    address = clean_line(raw)
    if len(address) > 254:
        raise ValidationError(_("An email address has at most 254 characters."))
    validate_email(address)
    local, _at, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def validate_country(code: str) -> str:
    code = clean_line(code).upper()
    if code and code not in countries:
        raise ValidationError(_("Unknown country code “%(value)s”.") % {"value": code})
    return code


def validate_currency(code: str) -> str:
    code = clean_line(code).upper()
    if code and code not in _CURRENCIES:
        raise ValidationError(_("Unknown currency code “%(value)s”.") % {"value": code})
    return code


def validate_language(code: str) -> str:
    code = clean_line(code).lower()
    if not code:
        return code
    try:
        Locale.parse(code)
    except (ValueError, TypeError, UnknownLocaleError) as exc:
        raise ValidationError(_("Unknown language code “%(value)s”.") % {"value": code}) from exc
    return code
