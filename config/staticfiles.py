"""The project's static files finder: Django's app-directories finder, leaving out what the
portal never serves.

drf-spectacular-sidecar ships ReDoc as well as Swagger UI; the portal's API docs are Swagger UI
only (config/urls.py), and ReDoc's bundle loads its logo from cdn.redoc.ly. Nothing may load
from the internet, so ReDoc is neither collected nor served (tests/test_deploy_settings.py scans
what is collected)."""

import fnmatch

from django.contrib.staticfiles.finders import AppDirectoriesFinder

NEVER_SERVED = ("drf_spectacular_sidecar/redoc/*",)


class PortalAppDirectoriesFinder(AppDirectoriesFinder):
    def list(self, ignore_patterns):
        return super().list([*(ignore_patterns or []), *NEVER_SERVED])

    def find_in_app(self, app, path):
        if any(fnmatch.fnmatchcase(path, pattern) for pattern in NEVER_SERVED):
            return None
        return super().find_in_app(app, path)
