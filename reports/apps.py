from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Reports (see the package docstring for why this is an app of its own)."""

    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from . import catalogue  # noqa: F401  (registers every report)
