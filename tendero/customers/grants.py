"""What each role may do with customers, their contacts and tags."""

from tendero.accounts import roles
from tendero.core import registry

# Looking after the customer base as a whole: merges, imports, exports.
DATA_STEWARD = (
    "customers.merge_customers",
    "customers.import_data",
    "customers.view_importjob",
    "customers.export_customers",
)
# Keeping a customer's record: what service does on top of reading.
KEEP_RECORD = (
    "customers.change_customer",
    "customers.add_contact",
    "customers.change_contact",
)


def register() -> None:
    registry.grant(
        roles.EVERYONE,
        "customers.view_customer",
        "customers.view_contact",
        "customers.view_tag",
    )
    registry.grant(roles.SEE_EVERY_CUSTOMER, "customers.view_all_customers")
    registry.grant(
        roles.CUSTOMER_WRITERS,
        *KEEP_RECORD,
        "customers.add_customer",
        "customers.delete_contact",
        "customers.change_relationship_level",
    )
    registry.grant((roles.SERVICE,), *KEEP_RECORD)
    registry.grant(
        roles.MANAGERS,
        *DATA_STEWARD,
        "customers.delete_customer",
        "customers.add_tag",
        "customers.change_tag",
        "customers.assign_account_executive",
    )
    registry.grant((roles.ADMINISTRATOR,), "customers.delete_tag")
    registry.grant((roles.MARKETING,), "customers.export_customers")
