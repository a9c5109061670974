"""The registries apps fill from their `ready()`: ordered, idempotent, and an
announced sidebar section gives way to the app that brings it."""

import pytest

from tendero.core import registry
from tendero.core.registry import NavItem, Registry


def test_items_are_listed_by_order_then_key():
    items: Registry[str] = Registry("things")
    items.register("b", "second", order=20)
    items.register("c", "first", order=10)
    items.register("a", "also second", order=20)
    assert list(items) == ["first", "also second", "second"]
    assert "a" in items and len(items) == 3


def test_registering_the_same_item_again_is_harmless_but_another_is_refused():
    items: Registry[str] = Registry("things")
    items.register("a", "one", order=10)
    items.register("a", "one", order=10)
    with pytest.raises(ValueError, match="things: 'a' is already registered"):
        items.register("a", "two", order=10)
    assert list(items) == ["one"]


def test_an_announced_section_gives_way_to_the_real_one(monkeypatch):
    monkeypatch.setattr(registry, "navigation", Registry[NavItem]("navigation"))
    registry.register_nav_item(NavItem("promises", "Promises"), order=40)
    real = NavItem("promises", "Promises", "promises:list", app_names=("promises",))
    registry.register_nav_item(real, order=40)
    registry.register_nav_item(NavItem("promises", "Promises"), order=40)
    assert list(registry.navigation) == [real]


def test_the_apps_registered_their_routers_pages_and_entries():
    assert [router.path for router in registry.api_routers][:2] == [
        "tendero.customers.import_api.router",  # /customers/export before /customers/{id}
        "tendero.customers.api.router",
    ]
    assert "tendero.dialogue.urls" in registry.urlconfs
    keys = [item.key for item in registry.navigation if not item.parent]
    assert keys == ["customers", "pipeline", "service", "promises", "purchases", "insights"]
