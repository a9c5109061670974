"""The cast every test can call on: one user per role, plus a second sales rep
and an outsider without any role, a helper to make customers, and the clients
that sign them in (pages) or carry their API token (API)."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from tendero.accounts import roles
from tendero.accounts.models import User
from tendero.accounts.services import create_api_token
from tendero.core import registry
from tendero.customers import services
from tendero.customers.models import Customer

PASSWORD = "correct-horse-battery-42"  # noqa: S105


def _user(username: str, role: str | None, **extra: Any) -> User:
    user = User.objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@tendero.test", **extra
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return User.objects.get(pk=user.pk)  # a fresh instance: no cached permissions


@pytest.fixture
def admin_user(db: None) -> User:
    return _user("alicia", roles.ADMINISTRATOR, first_name="Alicia", last_name="Núñez")


@pytest.fixture
def manager(db: None) -> User:
    return _user("marta", roles.MANAGER, first_name="Marta", last_name="Ibáñez")


@pytest.fixture
def sales(db: None) -> User:
    return _user("sergio", roles.SALES, first_name="Sergio", last_name="Peña")


@pytest.fixture
def other_sales(db: None) -> User:
    return _user("olga", roles.SALES, first_name="Olga", last_name="Ruiz")


@pytest.fixture
def service_agent(db: None) -> User:
    return _user("saul", roles.SERVICE, first_name="Saúl", last_name="Gómez")


@pytest.fixture
def marketer(db: None) -> User:
    return _user("mia", roles.MARKETING, first_name="Mía", last_name="López")


@pytest.fixture
def reader(db: None) -> User:
    return _user("rita", roles.READ_ONLY, first_name="Rita", last_name="Sanz")


@pytest.fixture
def outsider(db: None) -> User:
    return _user("otto", None, first_name="Otto", last_name="Weiss")


@pytest.fixture
def make_customer(manager: User) -> Callable[..., Customer]:
    """make_customer(display_name=..., account_executive=user, **fields) via the service."""

    def make(account_executive: User | None = None, **fields: Any) -> Customer:
        data: dict[str, Any] = {"kind": "person", "display_name": "José Pérez", **fields}
        return services.create_customer(manager, data, account_executive=account_executive)

    return make


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def api_client(user: User) -> Client:
    """A client carrying a new API token of `user`."""
    return Client(headers={"Authorization": f"Bearer {create_api_token(user, 'test').raw}"})


def send(client: Client, method: str, url: str, body: Any = None) -> Any:
    """`method` ("post", "patch"...) to `url` with `body` as JSON (None: no body)."""
    return getattr(client, method)(
        url, data=json.dumps(body) if body is not None else None, content_type="application/json"
    )


@pytest.fixture
def product_sections_only() -> Iterator[None]:
    """The 360 page's briefing sections as the product alone registers them, for the
    tests that hold the page to its query budget: sections of the test-only apps
    (tendero/tests/) are taken out for the test."""
    sections = registry.briefing_sections
    test_only = [e for e in sections.entries() if e[2].build.startswith("tendero.tests.")]
    for key, _order, _section in test_only:
        sections.unregister(key)
    yield
    for key, order, section in test_only:
        sections.register(key, section, order=order)
