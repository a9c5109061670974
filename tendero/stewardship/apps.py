from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StewardshipConfig(AppConfig):
    name = "tendero.stewardship"
    label = "stewardship"
    verbose_name = _("Stewardship")

    def ready(self) -> None:
        from tendero.core import registry
        from tendero.stewardship import (
            audit,  # noqa: F401  (registers models with the audit trail)
            grants,
            timeline_sources,
        )

        grants.register()
        timeline_sources.register()
        registry.register_api_router("tendero.stewardship.api.router", order=70)
        registry.register_urls("tendero.stewardship.urls", order=60)
        registry.register_demo_step(
            "stewardship.duplicates", "tendero.stewardship.demo_steps.duplicates", order=50
        )
        registry.register_nav_item(
            registry.NavItem(
                "duplicates",
                _("Duplicates"),
                "duplicates:list",
                permission="stewardship.view_duplicatepair",
                app_names=("duplicates",),
                parent="customers",
            ),
            order=30,
        )
