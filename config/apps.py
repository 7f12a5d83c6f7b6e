"""The project's own configuration of Django's staticfiles app."""

from django.contrib.staticfiles.apps import StaticFilesConfig


class PortalStaticFilesConfig(StaticFilesConfig):
    """Django's staticfiles, leaving out of ``collectstatic`` what the portal never serves.

    drf-spectacular-sidecar ships ReDoc as well as Swagger UI; the portal's API docs are Swagger
    UI only (config/urls.py), and ReDoc's bundle loads its logo from cdn.redoc.ly. Nothing may
    load from the internet, so ReDoc is not collected at all (tests/test_deploy_settings.py
    scans what is collected)."""

    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "drf_spectacular_sidecar/redoc/*"]
