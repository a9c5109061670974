from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    name = "tendero.workspace"
    label = "workspace"
    verbose_name = _("Workspace")

    def ready(self) -> None:
        from tendero.core import registry

        # The sections the product is growing into, shown as "soon" until the app
        # that brings one registers a real entry under its key.
        for key, label, order in (
            ("pipeline", _("Pipeline"), 20),
            ("service", _("Service"), 30),
            ("promises", _("Promises"), 40),
        ):
            registry.register_nav_item(registry.NavItem(key, label), order=order)
