from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "tendero.accounts"
    label = "accounts"
    verbose_name = _("People who use Tendero")

    def ready(self) -> None:
        from tendero.accounts import roles
        from tendero.accounts.roles import sync_roles_after_migrate
        from tendero.core import registry

        roles.register()
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="tendero-sync-roles")
        registry.register_urls("tendero.accounts.urls", prefix="accounts/", order=10)
