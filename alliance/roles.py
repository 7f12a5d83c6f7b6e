"""The five role groups and their model permissions, kept in step with the models.

Synced after every ``migrate`` (post_migrate), so a new model's permissions reach the roles
without a data migration: bureau staff get every permission of the portal's apps; auditors
and assessors view them; principals view them and add/change/delete the models that their
school may own (``scope.owners``); assessors also change what ``scope.assessed`` allows.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from .access import PRINCIPALS, Role

PORTAL_APPS = ("alliance", "staffing", "funding", "evaluation", "reports", "portal")
# None: the global beat schedule (django-celery-beat) is the superusers'; a county's bureau
# edits its own night in evaluation.NightlySchedule.
BUREAU_EXTRA_APPS: tuple[str, ...] = ()


def _codenames(role: Role, model) -> set[str]:
    name = model._meta.model_name
    scope = getattr(model, "scope", None)
    if role == Role.BUREAU:
        return {f"{a}_{name}" for a in ("view", "add", "change", "delete")}
    if scope is None:
        return set()
    actions = {"view"}
    if role in PRINCIPALS and scope.owners:
        actions |= {"add", "change", "delete"}
    if role == Role.ASSESSOR and scope.assessed:
        actions |= {"add", "change"}
    return {f"{a}_{name}" for a in actions}


def sync_role_groups(sender=None, using="default", **kwargs) -> None:
    # post_migrate is sent once per app; act on the last, when every permission exists.
    last = [c for c in apps.get_app_configs() if c.models_module is not None][-1]
    if sender is not None and sender.label != last.label:
        return
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted: list[Permission] = []
        app_labels = PORTAL_APPS + (BUREAU_EXTRA_APPS if role == Role.BUREAU else ())
        for model in apps.get_models():
            if model._meta.app_label not in app_labels:
                continue
            if model._meta.label == "alliance.User" and role != Role.BUREAU:
                continue
            ct = ContentType.objects.get_for_model(model)
            codenames = _codenames(role, model)
            wanted.extend(Permission.objects.filter(content_type=ct, codename__in=codenames))
        group.permissions.set(wanted)
