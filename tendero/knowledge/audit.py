"""Which personal knowledge the audit trail follows (django-auditlog)."""

from auditlog.registry import auditlog

from tendero.knowledge.models import PersonalFact

auditlog.register(PersonalFact, exclude_fields=["version", "updated_at", "month_day"])
