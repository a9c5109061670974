from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "tendero.privacy"
    label = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        from tendero.core import registry

        registry.register_api_router("tendero.privacy.api.router", order=90)
