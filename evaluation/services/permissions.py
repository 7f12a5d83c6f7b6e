"""Who may use the evaluation services: the county's bureau staff (or a superuser)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from alliance.access import Role, role_of


def _is_bureau_of(actor: Any, county_id: int) -> bool:
    if getattr(actor, "is_superuser", False) and actor.is_active:
        return True
    return role_of(actor) == Role.BUREAU and actor.county_id == county_id


def _require_bureau(actor: Any, county_id: int) -> None:
    if not _is_bureau_of(actor, county_id):
        raise PermissionDenied(_("Only the county's bureau staff may do this."))
