from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AllianceConfig(AppConfig):
    name = "alliance"
    verbose_name = _("Schools and alliances")

    def ready(self) -> None:
        from .roles import sync_role_groups

        # Sent once per app; the last one (after every app's permissions exist) wins.
        post_migrate.connect(sync_role_groups, dispatch_uid="alliance.sync_role_groups")
