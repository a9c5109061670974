"""Roles are groups with permissions. This module is the single definition of them."""

from typing import Any

from django.apps import apps as global_apps
from django.utils.translation import gettext_lazy as _

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

_CUSTOMER_READ = [
    "customers.view_customer",
    "customers.view_contact",
    "customers.view_tag",
    "audit.view_auditentry",
    "customers.view_personalfact",
    "dialogue.view_interaction",
    "organization.view_department",
    "contracts.view_purchase",
]
_SEE_EVERY_CUSTOMER = ["customers.view_all_customers"]
_CUSTOMER_WRITE = [
    "customers.add_customer",
    "customers.change_customer",
    "customers.add_contact",
    "customers.change_contact",
    "customers.delete_contact",
    "customers.add_personalfact",
    "customers.change_personalfact",
    "dialogue.add_interaction",
    "dialogue.change_interaction",
    "contracts.add_purchase",
    "contracts.change_purchase",
]
# Looking after the customer base as a whole: duplicates, imports, exports.
_DATA_STEWARD = [
    "customers.view_duplicatepair",
    "customers.change_duplicatepair",
    "customers.merge_customers",
    "customers.import_data",
    "customers.view_importjob",
    "customers.export_customers",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    ADMINISTRATOR: [
        *_CUSTOMER_READ,
        *_SEE_EVERY_CUSTOMER,
        *_CUSTOMER_WRITE,
        "customers.delete_customer",
        "customers.add_tag",
        "customers.change_tag",
        "customers.delete_tag",
        "customers.assign_account_executive",
        "customers.change_relationship_level",
        *_DATA_STEWARD,
        "dialogue.delete_interaction",
        "contracts.delete_purchase",
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "organization.add_department",
        "organization.change_department",
    ],
    MANAGER: [
        *_CUSTOMER_READ,
        *_SEE_EVERY_CUSTOMER,
        *_CUSTOMER_WRITE,
        "customers.delete_customer",
        "customers.add_tag",
        "customers.change_tag",
        "customers.assign_account_executive",
        "customers.change_relationship_level",
        *_DATA_STEWARD,
        "dialogue.delete_interaction",
        "contracts.delete_purchase",
    ],
    # Account executives see and work their own portfolio.
    SALES: [*_CUSTOMER_READ, *_CUSTOMER_WRITE, "customers.change_relationship_level"],
    SERVICE: [
        *_CUSTOMER_READ,
        *_SEE_EVERY_CUSTOMER,
        "customers.change_customer",
        "customers.add_contact",
        "customers.change_contact",
        "customers.add_personalfact",
        "customers.change_personalfact",
        "dialogue.add_interaction",
        "dialogue.change_interaction",
    ],
    MARKETING: [
        *_CUSTOMER_READ,
        *_SEE_EVERY_CUSTOMER,
        "dialogue.add_interaction",
        "customers.export_customers",
    ],
    READ_ONLY: [*_CUSTOMER_READ, *_SEE_EVERY_CUSTOMER],
}


def _permissions_by_name(apps: Any) -> dict[str, Any]:
    Permission = apps.get_model("auth", "Permission")
    wanted = {perm for perms in ROLE_PERMISSIONS.values() for perm in perms}
    found = {}
    for permission in Permission.objects.select_related("content_type"):
        key = f"{permission.content_type.app_label}.{permission.codename}"
        if key in wanted:
            found[key] = permission
    return found


def missing_permissions(apps: Any = global_apps) -> set[str]:
    wanted = {perm for perms in ROLE_PERMISSIONS.values() for perm in perms}
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
    for role, perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.set([by_name[p] for p in perms])


def sync_roles_after_migrate(sender: Any, **kwargs: Any) -> None:
    # Permissions are created post_migrate, app by app: sync once they all exist.
    if not missing_permissions():
        sync_roles()
