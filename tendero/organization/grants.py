"""The organization's grants."""

from tendero.accounts import roles
from tendero.core import registry


def register() -> None:
    registry.grant(roles.EVERYONE, "organization.view_department")
    registry.grant(
        (roles.ADMINISTRATOR,), "organization.add_department", "organization.change_department"
    )
