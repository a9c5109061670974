from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "tendero.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from tendero.core import registry
        from tendero.customers import (
            audit,  # noqa: F401  (registers models with the audit trail)
            grants,
            timeline_sources,
        )

        grants.register()
        timeline_sources.register()

        # The import router first: its /customers/export must match before
        # /customers/{customer_id}.
        registry.register_api_router("tendero.customers.import_api.router", order=10)
        registry.register_api_router("tendero.customers.api.router", order=20)
        registry.register_api_router("tendero.customers.search_api.router", order=30)
        registry.register_api_router("tendero.customers.timeline_api.router", order=60)

        registry.register_urls("tendero.customers.urls", prefix="customers/", order=20)
        registry.register_urls("tendero.customers.search_urls", order=40)
        registry.register_urls("tendero.customers.import_urls", order=50)

        steps = "tendero.customers.demo_steps"
        registry.register_demo_step("customers.search", f"{steps}.search_index", order=40)

        registry.register_nav_item(
            registry.NavItem(
                "customers", _("Customers"), "customers:list", app_names=("customers",)
            ),
            order=10,
        )
        registry.register_nav_item(
            registry.NavItem(
                "imports",
                _("Imports"),
                "imports:list",
                permission="customers.import_data",
                app_names=("imports",),
                parent="customers",
            ),
            order=40,
        )
