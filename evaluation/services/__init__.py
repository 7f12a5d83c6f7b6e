"""Every write of the evaluation app: rubrics, values, the evaluation run, appeals and
publishing. Keyword-only, inside ``transaction.atomic``; bad input raises a ValidationError
with a message for the user and writes nothing.

A module per job: ``errors`` (the error codes), ``default_rubric``,
``rubrics``, ``values`` (periods and indicator values), ``results`` (writing outcomes),
``nightly`` (the evaluation run), ``policies`` (award policies), ``preview`` (the what-if
preview) and ``publishing``
(proposal, appeals, approval, corrections). Callers use the names below
(``from evaluation import services; services.rubric_create(...)``).
"""

from ..compute import current_rubric
from .default_rubric import (
    default_rubric_structure,
    default_structure,
    principal_rubric_structure,
    teacher_rubric_structure,
)
from .errors import EvaluationError
from .nightly import (
    ADVISORY_LOCK_KEY,
    QueueUnavailable,
    RunRefused,
    evaluation_queue,
    evaluation_run,
    evaluation_run_scheduled,
    evaluation_runs_sweep,
    nightly_due,
    nightly_schedules_ensure,
)
from .policies import award_policy_create, award_policy_delete, award_policy_update
from .preview import awards_preview
from .publishing import (
    appeal_accept,
    appeal_file,
    appeal_reject,
    correction_approve,
    correction_propose,
    correction_reject,
    publication_approve,
    publication_propose,
)
from .results import SCHOOL_RESULT_FIELDS, outcome_write, outcomes_write, people_write
from .rubrics import (
    RUBRIC_SETTINGS,
    Problem,
    StructureError,
    rubric_copy,
    rubric_create,
    rubric_create_default,
    rubric_problems,
    rubric_rehash,
    rubric_revise,
    rubric_structure,
    rubric_structure_problems,
    rubric_update,
    structure_problems,
)
from .values import indicator_value_set, period_create

__all__ = [
    "ADVISORY_LOCK_KEY",
    "RUBRIC_SETTINGS",
    "SCHOOL_RESULT_FIELDS",
    "EvaluationError",
    "Problem",
    "QueueUnavailable",
    "RunRefused",
    "StructureError",
    "appeal_accept",
    "appeal_file",
    "appeal_reject",
    "award_policy_create",
    "award_policy_delete",
    "award_policy_update",
    "awards_preview",
    "correction_approve",
    "correction_propose",
    "correction_reject",
    "current_rubric",
    "default_rubric_structure",
    "default_structure",
    "evaluation_queue",
    "evaluation_run",
    "evaluation_run_scheduled",
    "evaluation_runs_sweep",
    "indicator_value_set",
    "nightly_due",
    "nightly_schedules_ensure",
    "outcome_write",
    "outcomes_write",
    "people_write",
    "period_create",
    "principal_rubric_structure",
    "publication_approve",
    "publication_propose",
    "rubric_copy",
    "rubric_create",
    "rubric_create_default",
    "rubric_problems",
    "rubric_rehash",
    "rubric_revise",
    "rubric_structure",
    "rubric_structure_problems",
    "rubric_update",
    "structure_problems",
    "teacher_rubric_structure",
]
