from typing import Any

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission

from tendero.accounts import roles
from tendero.accounts.backends import PermissionsInOneQueryBackend
from tendero.accounts.models import User

pytestmark = pytest.mark.django_db


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # no permission cache


@pytest.mark.parametrize(
    "role", [roles.MANAGER, roles.SALES, roles.SERVICE, roles.ADMINISTRATOR, roles.READ_ONLY]
)
def test_permissions_are_modelbackends_in_one_query(
    role: str, django_assert_num_queries: Any
) -> None:
    user = User.objects.create(username=f"someone-{role}")
    user.groups.add(Group.objects.get(name=role))
    own = Permission.objects.get(codename="view_auditentry")
    user.user_permissions.add(own)
    expected = ModelBackend().get_all_permissions(_fresh(user))
    fresh = _fresh(user)
    with django_assert_num_queries(1):
        found = PermissionsInOneQueryBackend().get_all_permissions(fresh)
        assert fresh.has_perm("audit.view_auditentry")
        assert fresh.has_perm("customers.view_customer") == ("customers.view_customer" in expected)
    assert found == expected and "audit.view_auditentry" in found


def test_superusers_inactive_and_anonymous_people(django_assert_num_queries: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    backend = PermissionsInOneQueryBackend()
    superuser = User.objects.create(username="root", is_superuser=True)
    assert backend.get_all_permissions(_fresh(superuser)) == ModelBackend().get_all_permissions(
        _fresh(superuser)
    )
    inactive = User.objects.create(username="gone", is_active=False)
    inactive.groups.add(Group.objects.get(name=roles.MANAGER))
    with django_assert_num_queries(0):
        assert backend.get_all_permissions(_fresh_without_query(inactive)) == set()
        assert backend.get_all_permissions(AnonymousUser()) == set()


def _fresh_without_query(user: User) -> User:
    user.__dict__.pop("_perm_cache", None)
    return user
