"""The default rubrics: seed 003's seven school dimensions, six principals' dimensions and
three teachers' dimensions, with their indicators (``default_structure`` by subject)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from ..models import Indicator, Subject


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


def _satisfaction(points: str) -> dict[str, Any]:
    """Satisfaction (%) in four bands, 95/90/80/60, worth 100/80/60/30 % of the points."""
    top = Decimal(points)
    return {
        "bands": [
            [threshold, str((top * Decimal(share) / 100).normalize())]
            for threshold, share in (("95", 100), ("90", 80), ("80", 60), ("60", 30))
        ]
    }


def principal_rubric_structure() -> list[dict[str, Any]]:
    """Seed 003's six principals' dimensions (规划学校发展、营造育人文化、领导课程教学、引领教师成长、
    优化内部管理、调适外部环境), 100 points. A principal's position is its school, so a computed
    indicator takes a school metric (training person-times)."""
    M, C, S = Indicator.Method.MANUAL, Indicator.Method.COMPUTED, Indicator.Method.SURVEY
    target = {"target": "100"}
    return [
        {
            "code": "planning",
            "name": _("Planning the school's development"),
            "indicators": [
                _spec("development_plan", _("Development plan drawn up and carried out"), 10, M, params=target),
                _spec("goals_met", _("Yearly goals met"), 6, M, params=target),
            ],
        },
        {
            "code": "culture",
            "name": _("Building a culture that educates"),
            "indicators": [
                _spec("school_culture", _("School culture built and shared"), 10, M, params=target),
                _spec("school_climate", _("Moral education and school climate"), 6, M, params=target),
            ],
        },
        {
            "code": "leading_teaching",
            "name": _("Leading curriculum and teaching"),
            "indicators": [
                _spec("curriculum", _("Curriculum carried out in full"), 10, M, params=target),
                _spec("lessons_observed", _("Lessons observed and teaching research led"), 10, M, params=target),
            ],
        },
        {
            "code": "teacher_growth",
            "name": _("Leading teachers' growth"),
            "indicators": [
                _spec("teacher_development", _("Teachers' growth planned and supported"), 10, M, params=target),
                _spec("training", _("Training person-times"), 8, C, "training_person_times", params={"target": "200"}),
            ],
        },
        {
            "code": "internal_management",
            "name": _("Improving internal management"),
            "indicators": [
                _spec("management", _("Rules, finance and safety managed"), 10, M, params=target),
                _spec("teacher_satisfaction", _("Teachers' satisfaction (%)"), 5, S, "", "bands", _satisfaction("5")),
            ],
        },
        {
            "code": "external_environment",
            "name": _("Adapting the external environment"),
            "indicators": [
                _spec("community", _("Families and the community involved"), 8, M, params=target),
                _spec("parent_satisfaction", _("Parents' satisfaction (%)"), 7, S, "", "bands", _satisfaction("7")),
            ],
        },
    ]


def teacher_rubric_structure() -> list[dict[str, Any]]:
    """Seed 003's three teachers' dimensions (师德师风、教育教学质量、立德树人成效), 100 points,
    entered by assessors or surveyed (there is no per-teacher metric)."""
    M, S = Indicator.Method.MANUAL, Indicator.Method.SURVEY
    target = {"target": "100"}
    return [
        {
            "code": "ethics",
            "name": _("Professional ethics"),
            "indicators": [
                _spec("ethics", _("Professional ethics and conduct"), 20, M, params=target),
                _spec("satisfaction", _("Students' and parents' satisfaction (%)"), 10, S, "", "bands",
                      _satisfaction("10")),
            ],
        },
        {
            "code": "teaching_quality",
            "name": _("Teaching quality"),
            "indicators": [
                _spec("teaching_results", _("Teaching results and their improvement"), 25, M, params=target),
                _spec("lesson_quality", _("Classroom teaching (lesson observation)"), 15, M, params=target),
            ],
        },
        {
            "code": "moral_education",
            "name": _("Moral education results"),
            "indicators": [
                _spec("class_work", _("Moral education and class work"), 15, M, params=target),
                _spec("student_growth", _("Students' all-round development"), 15, M, params=target),
            ],
        },
    ]  # fmt: skip


def default_structure(subject: str = Subject.SCHOOL) -> list[dict[str, Any]]:
    """The default rubric of a subject (schools, principals or teachers)."""
    if subject == Subject.PRINCIPAL:
        return principal_rubric_structure()
    if subject == Subject.TEACHER:
        return teacher_rubric_structure()
    return default_rubric_structure()
