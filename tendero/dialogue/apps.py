from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DialogueConfig(AppConfig):
    name = "tendero.dialogue"
    label = "dialogue"
    verbose_name = _("Dialogue")

    def ready(self) -> None:
        from tendero.core import registry
        from tendero.dialogue import (
            audit,  # noqa: F401  (registers models with the audit trail)
            grants,
            timeline_sources,
        )

        grants.register()
        timeline_sources.register()
        registry.register_api_router("tendero.dialogue.api.router", order=50)
        registry.register_briefing_section(
            registry.BriefingSection(
                "dialogue.conversations",
                "tendero.dialogue.briefing.conversations",
                template="dialogue/_briefing_conversations.html",
                open_template="dialogue/_open_conversations.html",
            ),
            order=10,
        )
        steps = "tendero.dialogue.demo_steps"
        registry.register_demo_step("dialogue.interactions", f"{steps}.interactions", order=10)
        registry.register_demo_step("dialogue.rhythms", f"{steps}.rhythms", order=30)
        registry.register_urls("tendero.dialogue.urls", order=70)
        registry.register_nav_item(
            registry.NavItem(
                "going_quiet",
                _("Going quiet"),
                "dialogue:going_quiet",
                view_names=("dialogue:going_quiet",),
                parent="customers",
            ),
            order=10,
        )
        registry.register_nav_item(
            registry.NavItem(
                "voice",
                _("Customer's voice"),
                "dialogue:voice",
                view_names=("dialogue:voice",),
                parent="customers",
            ),
            order=20,
        )
