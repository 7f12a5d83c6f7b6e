"""The default rubric: seed 003's seven school dimensions and their indicators."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from ..models import Indicator


def _spec(code, name, max_points, method, metric="", rule="target", params=None, direction="higher", vmax="100"):
    return {
        "code": code,
        "name": name,
        "max_points": Decimal(max_points),
        "method": method,
        "metric_key": metric,
        "rule": rule,
        "rule_params": params if params is not None else {},
        "direction": direction,
        "value_min": Decimal(0),
        "value_max": Decimal(vmax),
    }


def default_rubric_structure() -> list[dict[str, Any]]:
    """Seed 003's seven school dimensions (组织保障达成度 … 学生发展成长度), 100 points."""
    M, C, S = Indicator.Method.MANUAL, Indicator.Method.COMPUTED, Indicator.Method.SURVEY
    satisfaction_bands = {"bands": [["95", "4"], ["90", "3.2"], ["80", "2.4"], ["60", "1.2"]]}
    return [
        {
            "code": "organisation",
            "name": _("Organisational guarantee"),
            "indicators": [
                _spec(
                    "mechanism",
                    _("Alliance mechanism, plan and division of work in place"),
                    6,
                    M,
                    params={"target": "100"},
                ),
                _spec(
                    "term_meetings", _("Term meetings held"), 3, C, "activities_term_meeting", params={"target": "2"}
                ),
                _spec(
                    "tasks_on_time",
                    _("Pairing tasks done on time"),
                    3,
                    C,
                    "pairing_tasks_on_time",
                    params={"target": "100"},
                ),
            ],
        },
        {
            "code": "management",
            "name": _("Management integration"),
            "indicators": [
                _spec(
                    "plan_execution",
                    _("70 % plan execution rate"),
                    6,
                    C,
                    "plan_execution_rate",
                    "bands",
                    {"bands": [["95", "6"], ["80", "4"], ["60", "2"]]},
                ),
                _spec(
                    "lead_visits",
                    _("Member schools visited by the lead school"),
                    4,
                    C,
                    "lead_visit_share",
                    params={"target": "100"},
                ),
                _spec("shared_management", _("Shared management systems and culture"), 4, M, params={"target": "100"}),
            ],
        },
        {
            "code": "resources",
            "name": _("Resource sharing"),
            "indicators": [
                _spec(
                    "resource_sharing",
                    _("Resource-sharing activities"),
                    4,
                    C,
                    "activities_resource_sharing",
                    params={"target": "6"},
                ),
                _spec(
                    "teaching_research", _("Teaching-research activities"), 4, C, "activities_teaching_research", "rank"
                ),
                _spec("training", _("Training person-times"), 4, C, "training_person_times", params={"target": "200"}),
                _spec(
                    "online_lessons",
                    _("Online and synchronous lessons"),
                    4,
                    C,
                    "activities_online_lesson",
                    params={"target": "10"},
                ),
            ],
        },
        {
            "code": "teachers",
            "name": _("Teacher growth"),
            "indicators": [
                _spec(
                    "days_sent", _("Exchange teacher-days sent"), 5, C, "exchange_days_sent", params={"target": "180"}
                ),
                _spec(
                    "days_hosted",
                    _("Exchange teacher-days hosted"),
                    4,
                    C,
                    "exchange_days_hosted",
                    params={"target": "180"},
                ),
                _spec(
                    "rotation",
                    _("Rotation ratio (national target ≥ 10 %)"),
                    5,
                    C,
                    "rotation_ratio",
                    params={"target": "10"},
                ),
                _spec("mentoring", _("Mentoring meetings held"), 4, C, "mentoring_meetings", params={"target": "8"}),
            ],
        },
        {
            "code": "quality",
            "name": _("Quality improvement"),
            "indicators": [
                _spec("academic_quality", _("Academic quality and its improvement"), 10, M, params={"target": "100"}),
                _spec(
                    "classroom_teaching", _("Classroom teaching (lesson observation)"), 6, M, params={"target": "100"}
                ),
            ],
        },
        {
            "code": "satisfaction",
            "name": _("Satisfaction"),
            "indicators": [
                _spec("teacher_satisfaction", _("Teachers' satisfaction (%)"), 4, S, "", "bands", satisfaction_bands),
                _spec("student_satisfaction", _("Students' satisfaction (%)"), 4, S, "", "bands", satisfaction_bands),
                _spec("parent_satisfaction", _("Parents' satisfaction (%)"), 4, S, "", "bands", satisfaction_bands),
            ],
        },
        {
            "code": "students",
            "name": _("Student development"),
            "indicators": [
                _spec("student_growth", _("Students' all-round development"), 8, M, params={"target": "100"}),
                _spec(
                    "culture_sports",
                    _("Cultural and sports events"),
                    4,
                    C,
                    "activities_culture_sports",
                    params={"target": "4"},
                ),
            ],
        },
    ]
