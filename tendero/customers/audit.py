"""Which customer data the audit trail follows (django-auditlog)."""

from auditlog.registry import auditlog

from tendero.customers.models import (
    AccountExecutiveAssignment,
    Contact,
    Customer,
    CustomerEmail,
    CustomerPhone,
    RelationshipLevelChange,
)

auditlog.register(
    Customer,
    # Derived from interactions and recomputed often: not edits anyone made.
    exclude_fields=["version", "updated_at", "last_interaction_at", "next_contact_due", "name_key"],
    m2m_fields={"tags"},
)
auditlog.register(CustomerEmail, exclude_fields=["position"])
auditlog.register(CustomerPhone, exclude_fields=["position"])
auditlog.register(Contact, exclude_fields=["version", "updated_at"])
auditlog.register(AccountExecutiveAssignment)
auditlog.register(RelationshipLevelChange)
