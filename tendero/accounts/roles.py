"""Roles are groups with permissions. This module names them; each app grants its
own permissions to them (`tendero.core.registry.grant`, from its `ready()`), and the
groups are kept equal to what is granted after every migration."""

from typing import Any

from django.apps import apps as global_apps
from django.utils.translation import gettext_lazy as _

from tendero.core import registry

ADMINISTRATOR = "administrator"
MANAGER = "manager"
SALES = "sales"
SERVICE = "service"
MARKETING = "marketing"
READ_ONLY = "read-only"

ROLE_LABELS = {
    ADMINISTRATOR: _("Administrator"),
    MANAGER: _("Manager"),
    SALES: _("Sales"),
    SERVICE: _("Service"),
    MARKETING: _("Marketing"),
    READ_ONLY: _("Read-only"),
}

EVERYONE = tuple(ROLE_LABELS)
# The roles that see every customer; the others (sales) see their own portfolio.
SEE_EVERY_CUSTOMER = (ADMINISTRATOR, MANAGER, SERVICE, MARKETING, READ_ONLY)
# The roles that work customers' records: account executives and their managers.
CUSTOMER_WRITERS = (ADMINISTRATOR, MANAGER, SALES)
MANAGERS = (ADMINISTRATOR, MANAGER)


def role_permissions() -> dict[str, list[str]]:
    """Each role's permissions, as the apps grant them from their `ready()`."""
    return {role: sorted(registry.role_grants.of(role)) for role in ROLE_LABELS}


def register() -> None:
    registry.grant(
        (ADMINISTRATOR,), "accounts.view_user", "accounts.add_user", "accounts.change_user"
    )


def _permissions_by_name(apps: Any) -> dict[str, Any]:
    Permission = apps.get_model("auth", "Permission")
    wanted = {perm for perms in role_permissions().values() for perm in perms}
    found = {}
    for permission in Permission.objects.select_related("content_type"):
        key = f"{permission.content_type.app_label}.{permission.codename}"
        if key in wanted:
            found[key] = permission
    return found


def missing_permissions(apps: Any = global_apps) -> set[str]:
    wanted = {perm for perms in role_permissions().values() for perm in perms}
    return wanted - _permissions_by_name(apps).keys()


def sync_roles(apps: Any = global_apps) -> None:
    """Create or update one group per role with exactly its permissions.

    Raises LookupError if a permission a role needs does not exist.
    """
    Group = apps.get_model("auth", "Group")
    by_name = _permissions_by_name(apps)
    missing = missing_permissions(apps)
    if missing:
        raise LookupError(f"Permissions not found: {sorted(missing)}")
    for role, perms in role_permissions().items():
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.set([by_name[p] for p in perms])


def sync_roles_after_migrate(sender: Any, **kwargs: Any) -> None:
    # Permissions are created post_migrate, app by app: sync once they all exist.
    if not missing_permissions():
        sync_roles()
