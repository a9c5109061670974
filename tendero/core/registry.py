"""The registries every app fills from its `AppConfig.ready()`.

A capability plugs into the product by registering what it brings (its API router,
its pages' URLconf, its navigation items...) instead of being named by the project's
`urls.py`, `api.py` or base template. So a new app needs no edit outside its own
folder and the `INSTALLED_APPS` line; the assemblers (`tendero.urls`, `tendero.api`,
the navigation) read the registries.

Routers and URLconfs are registered by dotted path and imported when the project's
URLconf is loaded, after every app is ready: registering costs nothing at start-up
and can create no import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from django.http import HttpRequest
    from django.utils.functional import Promise
    from ninja import Router

Item = TypeVar("Item")


class Registry(Generic[Item]):
    """Items under unique keys, listed by their order (then by key, for a stable list)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._items: dict[str, tuple[int, Item]] = {}

    def register(self, key: str, item: Item, *, order: int) -> None:
        """Add `item`; registering the same key again with an equal item is a no-op
        (a test may call an app's `ready()` twice), with another item an error."""
        known = self._items.get(key)
        if known is not None and known != (order, item):
            raise ValueError(f"{self.name}: {key!r} is already registered")
        self._items[key] = (order, item)

    def get(self, key: str) -> Item | None:
        known = self._items.get(key)
        return None if known is None else known[1]

    def unregister(self, key: str) -> None:
        self._items.pop(key, None)

    def entries(self) -> list[tuple[str, int, Item]]:
        """(key, order, item) of every item, in order."""
        ordered = sorted(self._items.items(), key=lambda entry: (entry[1][0], entry[0]))
        return [(key, order, item) for key, (order, item) in ordered]

    def __iter__(self) -> Iterator[Item]:
        return (item for _, _, item in self.entries())

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)


# API routers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiRouter:
    """A django-ninja router mounted at /api/v1/ (`path`: "module.attribute")."""

    path: str

    def load(self) -> Router:
        router: Router = import_string(self.path)
        return router


api_routers: Registry[ApiRouter] = Registry("API routers")


def register_api_router(path: str, *, order: int = 100) -> None:
    """Mount the router at `path` ("tendero.app.api.router") under /api/v1/.

    Routers are matched in order: a router with a fixed path that another's
    parameter would also match (/customers/export against /customers/{id}) goes first.
    """
    api_routers.register(path, ApiRouter(path), order=order)


# URLconfs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UrlConf:
    """An app's pages: its URLconf module, included at `prefix` of the site."""

    module: str
    prefix: str


urlconfs: Registry[UrlConf] = Registry("URLconfs")


def register_urls(module: str, *, prefix: str = "", order: int = 100) -> None:
    """Include the URLconf `module` (with its own `app_name`) at `prefix` ("" or "x/")."""
    urlconfs.register(module, UrlConf(module, prefix), order=order)


# Navigation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    """An entry of the sidebar.

    `url_name` is the page it opens; `permission` ("app.codename"), when set, hides
    it from people who may not open it; it is the current entry when the page shown
    is in one of `app_names` (URL namespaces) or is one of `view_names`. An item with
    a `parent` is listed under that item. `url_name` empty: announced, not yet there.
    """

    key: str
    label: str | Promise
    url_name: str = ""
    permission: str = ""
    app_names: tuple[str, ...] = ()
    view_names: tuple[str, ...] = ()
    parent: str = ""

    def is_current(self, request: HttpRequest) -> bool:
        match = getattr(request, "resolver_match", None)
        if match is None:
            return False
        return match.app_name in self.app_names or match.view_name in self.view_names

    def allowed(self, request: HttpRequest) -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        return not self.permission or user.has_perm(self.permission)

    @property
    def announced(self) -> bool:
        return not self.url_name


navigation: Registry[NavItem] = Registry("navigation")


def register_nav_item(item: NavItem, *, order: int = 100) -> None:
    """Add a sidebar entry. An app arriving with a real entry under the key of an
    announced one (a section the layout shows as "soon") takes its place; an
    announcement never replaces a real entry."""
    current = navigation.get(item.key)
    if current is not None and current.announced != item.announced:
        if item.announced:
            return
        navigation.unregister(item.key)
    navigation.register(item.key, item, order=order)


# Role grants ---------------------------------------------------------------------------


class RoleGrants:
    """The permissions ("app.codename") each role holds, granted by the apps that
    define them: an app's roles see its objects without another app listing them."""

    def __init__(self) -> None:
        self._permissions: dict[str, set[str]] = {}

    def grant(self, role: str, permissions: Iterable[str]) -> None:
        self._permissions.setdefault(role, set()).update(permissions)

    def of(self, role: str) -> frozenset[str]:
        return frozenset(self._permissions.get(role, ()))


role_grants = RoleGrants()


def grant(roles: Iterable[str], *permissions: str) -> None:
    """Give each of `roles` the `permissions`; `tendero.accounts.roles` names the roles
    and keeps their groups equal to what is granted."""
    for role in roles:
        role_grants.grant(role, permissions)


# Demo steps ----------------------------------------------------------------------------


@dataclass
class DemoRun:
    """What the demo's steps share. The customers' step makes the people and the
    customers; every other app's step adds its part of their life (interactions,
    purchases, scores...), says what it made and may leave in `results` what a later
    step builds on."""

    customers: list[Any]
    users: dict[str, Any]
    today: datetime
    say: Callable[[str], None]
    results: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoStep:
    """A step of `tendero demo`: `path` ("module.function") is called with the DemoRun,
    inside the demo's transaction, after the steps of lower order."""

    key: str
    path: str

    def run(self, demo: DemoRun) -> None:
        import_string(self.path)(demo)


demo_steps: Registry[DemoStep] = Registry("demo steps")


def register_demo_step(key: str, path: str, *, order: int = 100) -> None:
    demo_steps.register(key, DemoStep(key, path), order=order)


# Briefing sections ---------------------------------------------------------------------


@dataclass(frozen=True)
class BriefingSection:
    """A part of the customer 360 page's briefing ("before you talk to them") and of
    its "what is open" column, brought by the app that owns what it shows.

    `build` ("module.function") is called with the customer (fetched for the 360
    page) and today's date and returns the section's data, in a fixed number of
    queries whatever the customer's history. `template`, when set, is included in
    the briefing and `open_template` in "what is open", each with `data`; the data's
    `open_items` (a count, 0 when absent) says whether it has anything open.
    """

    key: str
    build: str
    template: str = ""
    open_template: str = ""

    def data(self, customer: Any, today: date) -> Any:
        return import_string(self.build)(customer, today)


briefing_sections: Registry[BriefingSection] = Registry("briefing sections")


def register_briefing_section(section: BriefingSection, *, order: int = 100) -> None:
    briefing_sections.register(section.key, section, order=order)
