"""The API's token authentication (``DEFAULT_AUTHENTICATION_CLASSES``): DRF's, reading the
token, its user and the user's portal role in one query instead of two (the role is what every
permission check asks for first). DRF's settings import it while ``rest_framework.views`` loads,
so it must not import views itself."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db.models import Case, OuterRef, Subquery, Value, When
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from . import access

# The first of the user's roles in the order ``access.Role`` lists them, as ``role_of`` picks.
_ROLE_ORDER = Case(*(When(group__name=name, then=Value(i)) for i, name in enumerate(access.ROLE_NAMES)))


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        model = self.get_model()
        roles = Group.user_set.through.objects.filter(user_id=OuterRef("user_id"), group__name__in=access.ROLE_NAMES)
        try:
            token = (
                model.objects.select_related("user")
                .annotate(role_name=Subquery(roles.order_by(_ROLE_ORDER).values("group__name")[:1]))
                .get(key=key)
            )
        except model.DoesNotExist as exc:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from exc
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        access.remember_role(token.user, token.role_name)
        return (token.user, token)
