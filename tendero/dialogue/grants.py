"""What each role may do with the dialogue."""

from tendero.accounts import roles
from tendero.core import registry


def register() -> None:
    registry.grant(roles.EVERYONE, "dialogue.view_interaction")
    registry.grant(
        (*roles.CUSTOMER_WRITERS, roles.SERVICE, roles.MARKETING), "dialogue.add_interaction"
    )
    registry.grant((*roles.CUSTOMER_WRITERS, roles.SERVICE), "dialogue.change_interaction")
    registry.grant(roles.MANAGERS, "dialogue.delete_interaction")
