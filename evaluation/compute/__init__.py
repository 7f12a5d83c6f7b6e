"""Computing periods' results in memory, set-based, without writing anything.

A batch of periods (the nightly run gives it several counties at a time) is computed in two
steps: ``reads.read_batch`` reads what it needs, in a number of queries that grows with
neither the schools nor the periods, on several connections at once given a snapshot
(``pgtools.snapshots``); ``scoring_run.score_batch`` then computes a ``PeriodOutcome`` per
period, in memory. The services write them in one transaction (``services.outcomes_write``)
or show one as a what-if preview (``compute_period``). ``compute_periods`` is both steps on
one connection. Principals' and teachers' periods are scored by ``people`` with the same
indicator scoring (docs/adr/0008). ``rubric_content`` holds the rubric versions, their canonical content and
its hash.

A school result's trace (``trace.py``) keeps the school's own figures; the rubric's text is
stored once per content hash (``RubricSnapshot``) and joined back when the trace is shown.
"""

from .people import PeopleInputs, PersonOutcome, read_people, score_people
from .reads import BatchReads, read_batch
from .rubric_content import (
    check_points_total,
    current_rubric,
    current_rubrics,
    rubric_content,
    rubric_hash,
    rubric_indicators,
    rubric_versions,
)
from .scoring_run import (
    AllianceOutcome,
    PeriodOutcome,
    SchoolOutcome,
    compute_period,
    compute_periods,
    score_batch,
    the_period_pool,
)

__all__ = [
    "AllianceOutcome",
    "BatchReads",
    "PeopleInputs",
    "PeriodOutcome",
    "PersonOutcome",
    "SchoolOutcome",
    "check_points_total",
    "compute_period",
    "compute_periods",
    "current_rubric",
    "current_rubrics",
    "read_batch",
    "read_people",
    "rubric_content",
    "rubric_hash",
    "rubric_indicators",
    "rubric_versions",
    "score_batch",
    "score_people",
    "the_period_pool",
]
