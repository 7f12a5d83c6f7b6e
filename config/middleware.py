"""A database that blinks (restarts, fails over, drops connections) answers 503 with
``Retry-After``, never a 500: JSON under /api/, a short page elsewhere.

``process_exception`` catches what a view raises; ``config.errors.handler500`` catches the same
errors raised by other middleware (the session saved on the way out, the user read on the way
in), which Django turns into a response before any outer middleware could see them.
"""

from __future__ import annotations

import contextlib
import logging

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.utils.html import escape
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def is_database_unavailable(exc: BaseException | None) -> bool:
    # A lock timeout or a serialization failure is an OperationalError too; both are a 503 and
    # worth a retry as much as a restart is.
    while exc is not None:
        if isinstance(exc, DATABASE_ERRORS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def unavailable_response(request: HttpRequest) -> HttpResponse:
    from .errors import is_api, json_error

    message = _("The service is briefly unavailable; please try again shortly.")
    response: HttpResponse
    if is_api(request):
        response = json_error(503, message)
    else:
        response = HttpResponse(
            f"<!doctype html><title>503</title><h1>503</h1><p>{escape(message)}</p>",
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    session = getattr(request, "session", None)
    if session is not None and not hasattr(session, "_session_cache"):
        # Its load failed half-way: the session middleware must find it empty and unchanged
        # (it saves nothing on a 5xx).
        session._session_cache = {}
    # A broken connection must not serve the next request: Django reconnects on demand.
    for conn in connections.all(initialized_only=True):
        with contextlib.suppress(*DATABASE_ERRORS):
            conn.close_if_unusable_or_obsolete()
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_unavailable(exception):
            return None
        logger.warning("database unavailable in %s %s: %s", request.method, request.path, exception)
        return unavailable_response(request)
