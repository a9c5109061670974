from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "tendero.knowledge"
    label = "knowledge"
    verbose_name = _("Personal knowledge")

    def ready(self) -> None:
        from tendero.core import registry
        from tendero.knowledge import (
            audit,  # noqa: F401  (registers models with the audit trail)
            grants,
            timeline_sources,
        )

        grants.register()
        timeline_sources.register()
        registry.register_api_router("tendero.knowledge.api.router", order=40)
        registry.register_urls("tendero.knowledge.urls", order=30)
        registry.register_demo_step(
            "knowledge.facts", "tendero.knowledge.demo_steps.knowledge", order=20
        )
