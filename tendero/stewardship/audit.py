"""Which stewardship records the audit trail follows (django-auditlog)."""

from auditlog.registry import auditlog

from tendero.stewardship.models import CustomerMerge

auditlog.register(CustomerMerge)
