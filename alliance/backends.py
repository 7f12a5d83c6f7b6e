"""The session's authentication backend (``AUTHENTICATION_BACKENDS``): Django's model backend,
whose ``get_user`` (the user of every signed-in page request) also reads the user's portal role
in the same statement, sparing ``access.role_of`` its query on every page. The role's rule stays
``access.role_of``'s: the first of the user's groups in the order ``access.Role`` lists them,
written as SQL once, beside the API token's (``alliance.authentication.role_name_sql``)."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from . import access
from .authentication import ROLE_PARAMS, role_name_sql


@cache
def _user_sql() -> str:
    meta = get_user_model()._meta
    # The table's names from the model's meta, every value a parameter.
    return f'SELECT u.*, {role_name_sql("u")} AS "_role_name" FROM "{meta.db_table}" u WHERE u."{meta.pk.column}" = %s'  # noqa: S608


class RoleModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        model = get_user_model()
        pk = model._meta.pk.to_python(user_id)
        user = next(iter(model._default_manager.raw(_user_sql(), [*ROLE_PARAMS, pk])), None)
        if user is None or not self.user_can_authenticate(user):
            return None
        access.remember_role(user, getattr(user, "_role_name", None))
        return user
