"""What each role may do with personal knowledge: everyone reads it; whoever
keeps a customer's record notes and corrects it."""

from tendero.accounts import roles
from tendero.core import registry

KEEP_KNOWLEDGE = ("knowledge.add_personalfact", "knowledge.change_personalfact")


def register() -> None:
    registry.grant(roles.EVERYONE, "knowledge.view_personalfact")
    registry.grant(roles.CUSTOMER_WRITERS, *KEEP_KNOWLEDGE)
    registry.grant((roles.SERVICE,), *KEEP_KNOWLEDGE)
