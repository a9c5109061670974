from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "tendero.contracts"
    label = "contracts"
    verbose_name = _("Contracts and purchases")

    def ready(self) -> None:
        from tendero.contracts import (
            audit,  # noqa: F401  (registers models with the audit trail)
            grants,
            timeline_sources,
        )
        from tendero.core import registry

        grants.register()
        timeline_sources.register()
        registry.register_api_router("tendero.contracts.api.router", order=100)
        registry.register_demo_step(
            "contracts.purchases", "tendero.contracts.demo_steps.purchases", order=60
        )
        registry.register_urls("tendero.contracts.urls", order=80)
        registry.register_nav_item(
            registry.NavItem(
                "purchases",
                _("Purchases"),
                "contracts:list",
                permission="contracts.view_purchase",
                app_names=("contracts",),
            ),
            order=50,
        )
