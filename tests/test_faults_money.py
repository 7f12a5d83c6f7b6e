"""Money is read in plain decimal notation only, with at most two decimals: no exponent, no NaN
or Infinity, no grouping commas, never rounded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from alliance.rest import PlainDecimalField

ODD_AMOUNTS = ["1e3", "1E3", "1.001", "NaN", "Infinity", "-inf", "1,000", "0x10", "１０", " ", True]
PLAIN_AMOUNTS = [("1000", "1000.00"), ("1000.5", "1000.50"), ("1000.25", "1000.25"), (1000, "1000.00")]


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ODD_AMOUNTS)
def test_a_quota_in_anything_but_plain_notation_is_refused(amount, api_as, bureau_staff, funding_year):
    # when the bureau sets the year's base quota to an odd amount
    response = api_as(bureau_staff).patch(
        f"/api/v1/funding-years/{funding_year.pk}/", {"base_quota": amount}, format="json"
    )
    # then it is refused with a message on the field, and the quota is unchanged
    assert response.status_code == 400, response.content
    assert response.json()["base_quota"]
    funding_year.refresh_from_db()
    assert funding_year.base_quota == Decimal("200000.00")


@pytest.mark.django_db
@pytest.mark.parametrize("amount,stored", PLAIN_AMOUNTS)
def test_a_plain_amount_is_accepted(amount, stored, api_as, bureau_staff, funding_year):
    response = api_as(bureau_staff).patch(
        f"/api/v1/funding-years/{funding_year.pk}/", {"base_quota": amount}, format="json"
    )
    assert response.status_code == 200, response.content
    funding_year.refresh_from_db()
    assert funding_year.base_quota == Decimal(stored)


def test_the_messages_are_in_chinese():
    field = PlainDecimalField(max_digits=14, decimal_places=2)
    with translation.override("zh-hans"):
        for amount in ("1e3", "1.001"):
            try:
                field.run_validation(amount)
            except Exception as exc:
                message = str(exc.detail[0])
            else:
                raise AssertionError(f"{amount} accepted")
            assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message
