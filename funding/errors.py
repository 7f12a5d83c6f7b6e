"""The codes of the funding app's ValidationErrors (``ValidationError.code``): what happened."""

from __future__ import annotations

from enum import StrEnum


class FundingError(StrEnum):
    """What happened, as the ``code`` of the ValidationErrors raised here."""

    YEAR_NOT_DRAFT = "year_not_draft"
    YEAR_NOT_OPEN = "year_not_open"
    YEAR_CLOSED = "year_closed"
    NO_QUOTAS = "no_quotas"
    NO_ALLIANCES = "year_has_no_alliances"  # default quotas: nobody to fund
    NO_ALLIANCE = "school_in_no_alliance"
    NOT_IN_QUOTA_ALLIANCE = "school_not_in_quota_alliance"
    SEVERAL_ALLIANCES = "school_in_several_alliances"
    NO_LEAD_SCHOOL = "alliance_has_no_lead_school"
    NOT_MONEY = "not_money"  # not a decimal number at all (a float, NaN, text)
    NOT_PLAIN = "amount_not_plain_decimal"  # "1e3": money is written in plain decimals
    NOT_POSITIVE = "amount_not_positive"
    NOT_FEN = "amount_not_fen"
    NO_PAYEE = "no_payee"
    NOTHING_TO_AWARD = "nothing_to_award"
    NOT_YOUR_LINE = "not_your_plan_line"
    NOT_MEMBER = "school_not_in_alliance"  # a plan line for a school outside the plan's alliance
    OVER_LINE = "over_plan_line"
    OVER_FUND = "plan_over_fund"
    OVER_POOL = "awards_over_pool"
    NOT_FUNDED = "school_not_funded"
    PLAN_STATUS = "plan_status"
    PLAN_LOCKED = "plan_locked"  # a line of a submitted, approved or superseded plan
    PLAN_EXISTS = "plan_exists"
    PLAN_EMPTY = "plan_empty"
    BELOW_SPENT = "plan_below_spent"
    WRONG_YEAR = "wrong_year"
    DATE_OUTSIDE_YEAR = "date_outside_year"
    NO_REASON = "no_reason"
    NOT_REVERSIBLE = "not_reversible"
    ALREADY_REVERSED = "already_reversed"
    UNBALANCED = "unbalanced"
    UNKNOWN_FIELD = "unknown_field"
    # programme funds (seed 002's working funds per helper school)
    NOT_PROGRAMME_HELPER = "not_programme_helper"  # the school helps nobody in the programme
    FUND_ALLOCATED = "programme_fund_allocated"  # amount and share are fixed once booked
    NOT_PROGRAMME_SCHOOL = "not_programme_school"  # a plan line for a school the fund does not help
    OVER_PROGRAMME_FUND = "over_programme_fund"
