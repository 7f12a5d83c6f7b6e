from __future__ import annotations

from typing import Any

from . import context

# URL keyword arguments that name one object: the admin's and DRF's.
OBJECT_KWARGS = ("object_id", "pk")


class AuditMiddleware:
    """Acts as the request's user for the capture trigger (``context.request_writes``) and
    records a 404 on an object's URL for a signed-in user: another school's row is "not
    found" (ADR 0001), and the trail keeps who asked for it."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        with context.request_writes(request):
            response = self.get_response(request)
            if response.status_code == 404:
                self._refused(request)
        return response

    def _refused(self, request: Any) -> None:
        user = getattr(request, "user", None)
        match = getattr(request, "resolver_match", None)
        if match is None or user is None or not user.is_authenticated:
            return
        object_id = next((match.kwargs[k] for k in OBJECT_KWARGS if k in match.kwargs), None)
        if object_id is None:
            return
        from .services import record_event

        record_event("refused", request=request, model=_model_of(match), object_id=object_id)


def _model_of(match: Any) -> str:
    view = getattr(match.func, "cls", None)  # DRF
    queryset = getattr(view, "queryset", None)
    if queryset is not None:
        return queryset.model._meta.label_lower
    model_admin = getattr(match.func, "model_admin", None)
    if model_admin is not None:
        return model_admin.model._meta.label_lower
    # The admin's views are bound methods wrapped by admin_view; their name says the model.
    name = match.url_name or ""
    for suffix in ("_change", "_delete", "_history"):
        if name.endswith(suffix) and match.namespace == "admin":
            app, _, model = name[: -len(suffix)].partition("_")
            return f"{app}.{model}"
    return match.view_name[:100]
