"""The API's token authentication (``DEFAULT_AUTHENTICATION_CLASSES``): DRF's, reading the
token, its user and the user's portal role in one statement instead of two (the role is what
every permission check asks for first). DRF's settings import it while ``rest_framework.views``
loads, so it must not import views itself.

The statement is plain SQL, written once per process: every API request runs it, and building
the same query through the ORM (a join, a subquery ordered by the role order) cost as much
Python time as the rest of a short list (bench/api.py)."""

from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from . import access

# The parameters of ``role_name_sql``: the role names for its ``IN``, then for its ``CASE``.
ROLE_PARAMS = (*access.ROLE_NAMES, *access.ROLE_NAMES)


def role_name_sql(user: str) -> str:
    """A scalar subquery naming the portal role of the user row aliased ``user``: the first of
    its groups in the order ``access.Role`` lists them, as ``access.role_of`` picks (its
    parameters: ``ROLE_PARAMS``). Also read with the session's user (``alliance.backends``)."""
    links = Group.user_set.through
    gt, lt = Group._meta.db_table, links._meta.db_table
    order = " ".join(f"WHEN %s THEN {i}" for i in range(len(access.ROLE_NAMES)))
    # Table names from the models' meta, every value a parameter.
    return (
        f'(SELECT g."name" FROM "{lt}" ug INNER JOIN "{gt}" g ON g."id" = ug."group_id" '  # noqa: S608
        f'WHERE ug."user_id" = {user}."id" AND g."name" IN ({", ".join(["%s"] * len(access.ROLE_NAMES))}) '
        f'ORDER BY CASE g."name" {order} END LIMIT 1)'
    )


@cache
def _token_sql() -> str:
    from rest_framework.authtoken.models import Token

    ut, tt = get_user_model()._meta.db_table, Token._meta.db_table
    # Table names from the models' meta, every value a parameter.
    return (
        f'SELECT u.*, t."created" AS "_token_created", {role_name_sql("u")} AS "_role_name" '  # noqa: S608
        f'FROM "{tt}" t INNER JOIN "{ut}" u ON u."id" = t."user_id" WHERE t."key" = %s'
    )


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        model = self.get_model()
        params = [*ROLE_PARAMS, key]
        user = next(iter(get_user_model()._default_manager.raw(_token_sql(), params)), None)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token = model(key=key, user_id=user.pk, created=user._token_created)
        token.user = user
        access.remember_role(user, user._role_name)
        return (user, token)
