"""The evaluation services' error codes, and the ValidationError they raise."""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import ValidationError


class EvaluationError(StrEnum):
    NOT_BUREAU = "not_bureau"
    NOT_ASSESSOR_OF_SCHOOL = "not_assessor_of_school"
    OTHER_COUNTY = "school_of_other_county"
    LOCKED = "rubric_locked"
    POINTS_NOT_100 = "points_not_100"
    OUT_OF_RANGE = "out_of_range"
    PERIOD_NOT_OPEN = "period_not_open"
    PERIOD_PUBLISHED = "period_published"
    NOT_IN_RUBRIC = "not_in_rubric"
    COMPUTED_INDICATOR = "computed_indicator"
    NOT_PROPOSED = "not_proposed"
    NOT_PUBLISHED = "not_published"
    RUBRIC_INVALID = "rubric_invalid"
    DUPLICATE_CODE = "duplicate_code"
    NOTICE_OVER = "notice_over"
    NOTICE_RUNNING = "notice_running"
    OPEN_APPEALS = "open_appeals"
    OWN_PROPOSAL = "own_proposal"
    NO_REASON = "no_reason"
    NO_RESULTS = "no_results"
    APPEAL_DECIDED = "appeal_decided"
    NOT_PRINCIPAL = "not_principal"
    NO_LAST_YEAR = "no_last_year"
    EXISTS = "exists"
    NO_CORRECTION = "no_correction"
    NO_SUBJECT = "no_subject"
    OVER_POOL = "over_pool"


def _error(message: str, code: EvaluationError, field: str | None = None) -> ValidationError:
    if field:
        return ValidationError({field: ValidationError(message, code=code.value)})
    return ValidationError(message, code=code.value)
