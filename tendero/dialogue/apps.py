from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DialogueConfig(AppConfig):
    name = "tendero.dialogue"
    label = "dialogue"
    verbose_name = _("Dialogue")

    def ready(self) -> None:
        from tendero.dialogue import (
            audit,  # noqa: F401  (registers models with the audit trail)
            timeline_sources,
        )

        timeline_sources.register()
