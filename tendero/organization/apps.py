from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationConfig(AppConfig):
    name = "tendero.organization"
    label = "organization"
    verbose_name = _("Organization")

    def ready(self) -> None:
        from tendero.core import registry
        from tendero.organization import grants

        grants.register()
        registry.register_api_router("tendero.organization.api.router", order=80)
