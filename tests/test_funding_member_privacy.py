"""A member principal reads its own school's money, not the lead school's or the alliance's."""

import datetime as dt
from decimal import Decimal

from funding import services
from funding.models import Account, LedgerEntry, SpendingPlan


def test_member_principal_sees_own_spending_not_the_lead_schools(
    approved_plan, principal, lead_principal, member_school, lead_school
):
    # given spending at the member school and at the lead school
    own = services.spending_record_create(
        actor=principal, plan_line=approved_plan.lines.get(school=member_school),
        date=dt.date(2025, 10, 20), amount=Decimal("100.00"), payee="文具店",
    )  # fmt: skip
    lead = services.spending_record_create(
        actor=lead_principal, plan_line=approved_plan.lines.get(school=lead_school),
        date=dt.date(2025, 10, 20), amount=Decimal("900.00"), payee="培训机构",
    )  # fmt: skip
    entries = LedgerEntry.objects.visible_to(principal)
    # then the member principal sees its own entry, not the lead school's, the allocation or the plan
    assert entries.filter(spending_record=own).exists()
    assert not entries.filter(spending_record=lead).exists()
    assert not entries.filter(kind="allocation").exists()
    assert not SpendingPlan.objects.visible_to(principal).exists()
    assert not Account.objects.visible_to(principal).filter(kind="alliance_fund").exists()
    # while the lead principal sees all of its alliance's
    assert LedgerEntry.objects.visible_to(lead_principal).filter(spending_record__in=[own, lead]).count() == 2
    assert SpendingPlan.objects.visible_to(lead_principal).filter(pk=approved_plan.pk).exists()
    assert Account.objects.visible_to(lead_principal).filter(kind="alliance_fund").exists()
