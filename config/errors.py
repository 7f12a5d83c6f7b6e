"""Error answers: JSON for every path under ``/api/``, Django's pages elsewhere.

``handler404``/``handler500`` (config.urls), ``csrf_failure`` (``CSRF_FAILURE_VIEW``) and
``ApiErrorMiddleware`` (a 4xx/5xx answer under /api/ that is not JSON, such as the bare 405 of a
Django view, is rewritten as ``{"detail": ...}``) make sure an API client never parses an HTML
error page.
"""

from __future__ import annotations

import sys
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def json_error(status: int, detail: str, **extra) -> JsonResponse:
    return JsonResponse({"detail": str(detail), **extra}, status=status, json_dumps_params={"ensure_ascii": False})


def _detail(status: int) -> str:
    return {
        400: _("Bad request."),
        401: _("Authentication credentials were not provided."),
        403: _("You do not have permission to perform this action."),
        404: _("Not found."),
        405: _("Method not allowed."),
        413: _("The request is too large."),
        500: _("Server error. The error has been logged; please try again later."),
        503: _("The service is briefly unavailable; please try again shortly."),
    }.get(status) or _phrase(status)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return _("Error.")


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api(request):
        return json_error(404, _detail(404))
    return defaults.page_not_found(request, exception)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    from .middleware import is_database_unavailable, unavailable_response

    # The session could not be saved because the database went away (SessionInterrupted).
    if is_database_unavailable(exception):
        return unavailable_response(request)
    if is_api(request):
        return json_error(400, _detail(400))
    return defaults.bad_request(request, exception or Exception())


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api(request):
        return json_error(403, _detail(403))
    return defaults.permission_denied(request, exception or Exception())


def handler500(request: HttpRequest) -> HttpResponse:
    from .middleware import is_database_unavailable, unavailable_response

    # Called while the exception is being handled: a database blink met outside a view.
    if is_database_unavailable(sys.exc_info()[1]):
        return unavailable_response(request)
    if is_api(request):
        return json_error(500, _detail(500))
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if is_api(request):
        return json_error(403, _("CSRF check failed: %(reason)s") % {"reason": reason})
    return django_csrf_failure(request, reason=reason)


def api_not_found(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """Every /api/ path no route takes (before the admin's catch-all, which would redirect)."""
    return json_error(404, _detail(404))


class ApiErrorMiddleware:
    """A 4xx/5xx under /api/ whose body is not JSON (and is not DRF's own answer) becomes
    ``{"detail": ...}`` with the same status and headers (``Allow``, ``Retry-After``, ``WWW-Authenticate`` are kept)."""

    KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or not is_api(request) or getattr(response, "streaming", False):
            return response
        if response.get("Content-Type", "").split(";")[0].strip().endswith("json"):
            return response
        if hasattr(response, "accepted_renderer"):
            if response["Content-Type"].startswith("text/html"):
                return response  # the browsable API's page (DEBUG), for a browser that asked
            # DRF's own error, rendered as YAML for the schema's client: the same body in JSON.
            data = response.data if isinstance(response.data, dict) else {"detail": response.data}
            replaced = JsonResponse(data, status=response.status_code, json_dumps_params={"ensure_ascii": False})
        else:
            replaced = json_error(response.status_code, _detail(response.status_code))
        for name in self.KEPT_HEADERS:
            if name in response:
                replaced[name] = response[name]
        for cookie in response.cookies.values():
            replaced.cookies[cookie.key] = cookie
        return replaced
