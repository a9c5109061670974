"""What each role may do with purchases."""

from tendero.accounts import roles
from tendero.core import registry


def register() -> None:
    registry.grant(roles.EVERYONE, "contracts.view_purchase")
    registry.grant(roles.CUSTOMER_WRITERS, "contracts.add_purchase", "contracts.change_purchase")
    registry.grant(roles.MANAGERS, "contracts.delete_purchase")
