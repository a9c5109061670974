"""What each role may do with possible duplicates: managers review them (merging
is customers.merge_customers, granted with the customers)."""

from tendero.accounts import roles
from tendero.core import registry


def register() -> None:
    registry.grant(
        roles.MANAGERS, "stewardship.view_duplicatepair", "stewardship.change_duplicatepair"
    )
