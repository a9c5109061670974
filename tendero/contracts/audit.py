"""Which ledger data the audit trail follows (django-auditlog). Purchase.get_additional_data
carries the customer id, so every purchase change shows in the customer's history."""

from auditlog.registry import auditlog

from tendero.contracts.models import Purchase

auditlog.register(Purchase, exclude_fields=["version", "updated_at"])
