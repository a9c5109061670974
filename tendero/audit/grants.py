"""The audit trail's grants: everyone who reads customers reads their history."""

from tendero.accounts import roles
from tendero.core import registry


def register() -> None:
    registry.grant(roles.EVERYONE, "audit.view_auditentry")
