"""The sidebar, built from the navigation registry for the person looking at it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from tendero.core import registry

if TYPE_CHECKING:
    from django.http import HttpRequest
    from django.utils.functional import Promise


@dataclass(frozen=True)
class Entry:
    """One shown entry: `url` empty for an announced section."""

    label: str | Promise
    url: str
    current: bool
    children: list[Entry] = field(default_factory=list)

    @property
    def soon(self) -> bool:
        return not self.url


def entries(request: HttpRequest) -> list[Entry]:
    """The entries `request.user` may open, children under their parent; an entry
    whose parent is hidden is hidden with it."""
    shown = [item for item in registry.navigation if item.announced or item.allowed(request)]
    children: dict[str, list[Entry]] = {}
    for item in shown:
        if item.parent:
            children.setdefault(item.parent, []).append(_entry(item, request))
    return [_entry(item, request, children.get(item.key, [])) for item in shown if not item.parent]


def _entry(
    item: registry.NavItem, request: HttpRequest, children: list[Entry] | None = None
) -> Entry:
    url = "" if item.announced else reverse(item.url_name)
    current = not item.announced and item.is_current(request)
    return Entry(item.label, url, current, children or [])


def navigation(request: HttpRequest) -> dict[str, object]:
    """Context processor: `navigation`, built only when a page renders the sidebar."""
    return {"navigation": SimpleLazyObject(lambda: entries(request))}
