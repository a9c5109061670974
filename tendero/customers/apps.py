from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "tendero.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from tendero.customers import (
            audit,  # noqa: F401  (registers models with the audit trail)
            timeline_sources,
        )

        timeline_sources.register()
