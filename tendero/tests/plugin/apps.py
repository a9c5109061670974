from django.apps import AppConfig


class PluginConfig(AppConfig):
    name = "tendero.tests.plugin"
    label = "plugin"
    verbose_name = "Field notes (test plugin)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tendero.accounts import roles
        from tendero.core import registry, timeline
        from tendero.tests.plugin import sources

        registry.grant((roles.SALES,), "plugin.view_fieldnote")
        timeline.register(sources.FIELD_NOTES)
        registry.register_api_router("tendero.tests.plugin.api.router", order=900)
        registry.register_briefing_section(
            registry.BriefingSection(
                "plugin.field_notes",
                "tendero.tests.plugin.briefing.latest_notes",
                template="plugin/briefing_notes.html",
                open_template="plugin/open_notes.html",
            ),
            order=900,
        )
        registry.register_demo_step(
            "plugin.field_notes", "tendero.tests.plugin.demo_steps.field_notes", order=900
        )
        registry.register_urls("tendero.tests.plugin.urls", prefix="field-notes/", order=900)
        registry.register_nav_item(
            registry.NavItem(
                "field_notes",
                "Field notes",
                "plugin:notes",
                permission="plugin.view_fieldnote",
                app_names=("plugin",),
                parent="customers",
            ),
            order=90,
        )
