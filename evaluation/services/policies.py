"""Award policies: how a county's 30 % pool of a school year is divided. The bureau of the
county sets them; once the year's awards are proposed or published a policy is settled and no
longer changes (``AwardPolicy.clean`` and ``delete`` refuse it)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from alliance import access

from ..models import AwardPolicy

POLICY_FIELDS = ("kind", "tier_coefficients", "pass_threshold", "fill_pool")


def award_policy_create(*, actor: Any, county: Any, school_year: Any, **fields: Any) -> AwardPolicy:
    access.require_bureau_of(actor, county.pk)
    with transaction.atomic():
        policy = AwardPolicy(county=county, school_year=school_year, **fields)
        policy.full_clean()
        policy.save()
        return policy


def award_policy_update(*, actor: Any, policy: AwardPolicy, **fields: Any) -> AwardPolicy:
    access.require_bureau_of(actor, policy.county_id)
    with transaction.atomic():
        policy = AwardPolicy.objects.select_for_update().get(pk=policy.pk)
        for key, value in fields.items():
            if key not in (*POLICY_FIELDS, "county", "school_year"):
                raise ValueError(key)
            setattr(policy, key, value)
        access.require_bureau_of(actor, policy.county_id)
        policy.full_clean()
        policy.save()
        return policy


def award_policy_delete(*, actor: Any, policy: AwardPolicy) -> None:
    access.require_bureau_of(actor, policy.county_id)
    with transaction.atomic():
        AwardPolicy.objects.select_for_update().get(pk=policy.pk).delete()
