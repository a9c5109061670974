"""Which dialogue data the audit trail follows (django-auditlog)."""

from auditlog.registry import auditlog

from tendero.dialogue.models import Interaction

auditlog.register(Interaction, exclude_fields=["version", "updated_at"])
