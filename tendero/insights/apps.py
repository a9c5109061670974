from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "tendero.insights"
    label = "insights"
    verbose_name = _("Insights")

    def ready(self) -> None:
        from tendero.core import registry

        registry.register_api_router("tendero.insights.api.router", order=110)
        registry.register_demo_step("insights.value", "tendero.insights.demo_steps.value", order=70)
        registry.register_api_router("tendero.insights.retention_api.router", order=120)
        registry.register_urls("tendero.insights.urls", order=90)
        registry.register_urls("tendero.insights.retention_urls", order=100)
        registry.register_nav_item(
            registry.NavItem(
                "insights", _("Insights"), "retention:insights", app_names=("retention",)
            ),
            order=60,
        )
