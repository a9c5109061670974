from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "tendero.core"
    label = "core"
    verbose_name = _("Tendero kernel")

    def ready(self) -> None:
        from tendero.core import checks  # noqa: F401  (registers the system checks)
