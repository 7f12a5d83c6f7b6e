from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from . import access
from .access import Role


class RolePermission(BasePermission):
    """Reads for every user with a role (rows are scoped by the queryset); writes only for the
    roles a view allows (``write_roles``, per action in ``action_roles``), and for an existing
    row only when the access checkpoint lets the user change it."""

    message = _("Your role does not allow this.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not access.has_role(user):
            return False
        allowed = _action_roles(view)
        if allowed is not None:
            return access.may_act(user, allowed)
        if request.method in SAFE_METHODS:
            return True
        model = view.get_queryset().model
        return access.can_write_model(user, model)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS and _action_roles(view) is None:
            return True
        return access.can_change(request.user, obj)


def _action_roles(view: Any) -> frozenset[Role] | None:
    return getattr(view, "action_roles", {}).get(getattr(view, "action", None))
