"""The one way views ask whether a request came from htmx (django-htmx sets
`request.htmx`; typed here so views need no `type: ignore`)."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


def htmx_details(request: HttpRequest) -> HtmxDetails | None:
    """django-htmx's details of an htmx request; None for a plain one."""
    details = getattr(request, "htmx", None)
    return details if details else None
