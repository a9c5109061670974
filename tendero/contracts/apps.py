from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "tendero.contracts"
    label = "contracts"
    verbose_name = _("Contracts and purchases")

    def ready(self) -> None:
        from tendero.contracts import (
            audit,  # noqa: F401  (registers models with the audit trail)
            timeline_sources,
        )

        timeline_sources.register()
