from django import template

from tendero.customers.validation import format_phone

register = template.Library()


@register.filter(name="phone")
def phone(e164: str) -> str:
    """A stored E.164 number the way people read it: +34 612 34 56 78."""
    return format_phone(e164) if e164 else ""
