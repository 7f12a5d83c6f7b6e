"""The permission table: for every API endpoint, which role may do what.

One row per endpoint (the router's basename). ``read`` lists the roles that see the A-side
row, ``read_b`` those that see the B-side row, ``change``/``change_b`` those that may update
and delete the A-side/B-side row, ``create`` those that may create a row naming the A side
(default ``change``), ``create_b`` those that may create one naming the B side. Anything not
listed is denied. For county-level rows (school years, terms) the B side is county Y's row.

Every (role, operation) expects exactly one status (``Rule.expected``; the operations are
``OPS``: the list, and retrieve, create, update (PATCH) and delete on each side). By default an
anonymous request is a 403, a list a 200, a read 200 or 404. A refused write is a 403 when the
role may not write this kind of row at all, a 404 when the row is outside what the role can see
(never a 403: that would reveal that it exists), a 403 when the role sees but may not change it,
and a 400 (nothing written) when the role may create such rows but names one that is not its
own. A method the endpoint does not offer is a 405 for a role past the model-level gate, a 403
for the others. A row answers differently only where it says so: ``expect`` with the status and
the reason, or ``wrong`` for the right status that today's code does not give (an xfail).

The world: county X with alliance A1 (lead_school + member_school "A") and alliance A2
(other_lead_school + other_school "B"); county Y. Roles: ``bureau`` (county X), ``bureau_y``
(county Y), ``lead`` (principal of lead_school), ``principal`` (member principal of A),
``assessor`` (assigned to A), ``auditor`` (county X), ``anonymous``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

OPS = ("list", "retrieve", "retrieve_b", "create", "create_b", "update", "update_b", "delete", "delete_b")
METHODS = {"create": "post", "update": "patch", "delete": "delete"}
ROLES = ("anonymous", "bureau", "bureau_y", "lead", "principal", "assessor", "auditor")
COUNTY_X = frozenset({"bureau", "lead", "principal", "assessor", "auditor"})
A_READERS = COUNTY_X  # every county-X role sees the A side (the assessor is assigned to A)
BUREAU = frozenset({"bureau"})
COUNTY_READERS = frozenset({"bureau", "auditor"})


@dataclass(frozen=True)
class Rule:
    a_row: Callable[[Any], Any]
    b_row: Callable[[Any], Any]
    read: frozenset[str] = A_READERS
    read_b: frozenset[str] = COUNTY_READERS
    change: frozenset[str] = BUREAU
    change_b: frozenset[str] = BUREAU
    create: frozenset[str] | None = None
    create_b: frozenset[str] = BUREAU
    payload: Callable[[Any], dict] | None = None  # a valid create payload naming the A side
    payload_b: Callable[[Any], dict] | None = None  # the same, naming the B side
    patch: Callable[[Any], dict] = field(default=lambda w: {})
    multipart: bool = False  # the create payload carries a file
    # roles that pass the model-level write gate (their kind writes such rows somewhere, e.g. of
    # their own school) without rights on the rows at hand: a create is a 400, a write 403 or 404
    elsewhere: frozenset[str] = frozenset()
    readonly: bool = False  # no create/update/delete at all (405 past the model-level gate, else 403)
    unsupported: frozenset[str] = frozenset()  # methods the endpoint does not offer: "patch", "delete"
    # The admin's change form where it differs from the API (e.g. a plan's notes are editable there).
    admin_change: frozenset[str] | None = None
    admin_change_b: frozenset[str] | None = None
    # deletions the admin offers where the API has none
    admin_delete: frozenset[str] = frozenset()
    admin_delete_b: frozenset[str] = frozenset()
    # (role, op) -> (status, why): the cases whose answer is not the default (``expected``)
    expect: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    # (role, op) -> (status, why): the right answer, which today's code does not give (the case
    # is an xfail(strict=True) until the code is fixed; then the entry moves to ``expect`` or goes)
    wrong: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    # (role, page) -> (status, why): the admin pages whose answer is not the default
    # (tests/test_admin_scoping.py's ``expected``)
    admin_expect: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)

    def expected(self, role: str, op: str) -> tuple[int, str]:
        """The one status ``role`` gets for ``op`` (one of ``OPS``), and why."""
        if (role, op) in self.wrong:
            return self.wrong[(role, op)]
        if (role, op) in self.expect:
            return self.expect[(role, op)]
        if role == "anonymous":
            return 403, "not logged in (session authentication first: 403, not 401)"
        kind, side_b = op.removesuffix("_b"), op.endswith("_b")
        if kind == "list":
            return 200, "every role lists; the rows are scoped"
        readers = self.read_b if side_b else self.read
        if kind == "retrieve":
            return (200, "the role reads the row") if role in readers else (404, "the row is outside what it sees")
        if self.readonly or METHODS[kind] in self.unsupported:
            if role in self.writers:
                return 405, "the endpoint does not offer the method (after the role's model-level gate)"
            return 403, "the role may not write this kind of row at all"
        allowed = {
            "create": self.create_b if side_b else self.creators,
            "update": self.change_b if side_b else self.change,
            "delete": self.change_b if side_b else self.change,
        }[kind]
        if role in allowed:
            return {"create": 201, "update": 200, "delete": 204}[kind], "allowed"
        if role not in self.writers:
            return 403, "the role may not write this kind of row at all"
        if kind == "create":
            return 400, "the role creates such rows, but names one that is not its own"
        if role not in readers:
            return 404, "the row is outside what the role sees"
        return 403, "the role sees the row but may not change it"

    @property
    def creators(self) -> frozenset[str]:
        return self.change if self.create is None else self.create

    @property
    def writers(self) -> frozenset[str]:
        """Roles whose kind may write this kind of row somewhere (county Y's bureau is a bureau)."""
        roles = self.change | self.change_b | self.creators | self.create_b | self.elsewhere
        # Bureau staff pass the model-level gate of every endpoint; rows and services decide.
        return roles | {"bureau", "bureau_y"}


TABLE: dict[str, Rule] = {}
PROTECTED_PAGE = "the admin's delete page lists what PROTECTs the row and deletes nothing"
# Rows that only services create (plans, spending, appeals): the admin has no add page for anyone.
NO_ADMIN_ADD = {
    (role, "add"): (403, "created through the API's service only: the admin adds none")
    for role in ("bureau", "bureau_y", "lead", "principal")
}


def _upload(name: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    # A real PDF by its first bytes: uploads are checked by content as well as name.
    return SimpleUploadedFile(
        name, b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n", content_type="application/pdf"
    )


def _rubric_payload(school_year: Any) -> dict:
    indicator = {
        "name": "教学质量", "max_points": "100", "method": "manual", "rule": "target",
        "rule_params": {"target": "100"}, "direction": "higher", "value_min": "0", "value_max": "100",
    }  # fmt: skip
    return {
        "school_year": school_year.pk,
        "name": "新方案",
        "dimensions": [{"code": "main", "name": "主维度", "indicators": [{"code": "quality", **indicator}]}],
    }


def rule(basename: str, **kwargs: Any) -> None:
    TABLE[basename] = Rule(**kwargs)


# --- alliance ---------------------------------------------------------------------------
rule(
    "county",
    a_row=lambda w: w.county,
    b_row=lambda w: w.other_county,
    read_b=frozenset({"bureau_y"}),
    change=frozenset(),
    change_b=frozenset(),
    create_b=frozenset(),
    readonly=True,
)
rule(
    "school",
    a_row=lambda w: w.member_school,
    b_row=lambda w: w.other_school,
    payload=lambda w: {
        "county": w.county.pk,
        "code": "NEW01",
        "name": "新建小学",
        "stage": "primary",
        "location": "rural",
        "strength": "new",
        "students": 10,
        "teachers": 2,
        "classes": 1,
    },
    payload_b=lambda w: {
        "county": w.other_county.pk,
        "code": "NEW02",
        "name": "邻县新校",
        "stage": "primary",
        "location": "rural",
        "strength": "new",
    },
    create_b=frozenset({"bureau_y"}),
    patch=lambda w: {"students": 321},
    expect={
        ("bureau", "delete"): (400, "PROTECTed by its memberships: a school with history is not deleted"),
        ("bureau", "delete_b"): (400, "PROTECTed by its memberships: a school with history is not deleted"),
    },
    admin_expect={
        ("bureau", "delete"): (200, PROTECTED_PAGE),
        ("bureau", "delete_b"): (200, PROTECTED_PAGE),
    },
)
rule(
    "schoolyear",
    a_row=lambda w: w.school_year,
    b_row=lambda w: w.other_school_year,
    read_b=frozenset({"bureau_y"}),
    change_b=frozenset({"bureau_y"}),
    create_b=frozenset({"bureau_y"}),
    payload=lambda w: {"county": w.county.pk, "start_year": 2031, "start_date": "2031-09-01", "end_date": "2032-07-15"},
    payload_b=lambda w: {
        "county": w.other_county.pk,
        "start_year": 2031,
        "start_date": "2031-09-01",
        "end_date": "2032-07-15",
    },
    patch=lambda w: {"end_date": "2026-07-10"},
    expect={
        ("bureau", "delete"): (400, "PROTECTed by its terms, alliances and funding years"),
        ("bureau_y", "delete_b"): (400, "PROTECTed by its terms, rubric and periods"),
    },
    admin_expect={
        ("bureau", "delete"): (200, PROTECTED_PAGE),
        ("bureau_y", "delete_b"): (200, PROTECTED_PAGE),
    },
)
rule(
    "term",
    a_row=lambda w: w.term,
    b_row=lambda w: w.other_term,
    read_b=frozenset({"bureau_y"}),
    change_b=frozenset({"bureau_y"}),
    create_b=frozenset({"bureau_y"}),
    payload=lambda w: {
        "school_year": w.school_year_2027.pk,
        "number": 1,
        "start_date": "2027-09-01",
        "end_date": "2028-01-20",
    },
    payload_b=lambda w: {
        "school_year": w.other_school_year.pk,
        "number": 2,
        "start_date": "2026-02-20",
        "end_date": "2026-07-10",
    },
    patch=lambda w: {"end_date": "2026-01-25"},
    # the evaluation period of county X's first term PROTECTs it; county Y's term has none
    expect={("bureau", "delete"): (400, "PROTECTed by the evaluation period of the term")},
)
rule(
    "alliance",
    a_row=lambda w: w.alliance,
    b_row=lambda w: w.other_alliance,
    payload=lambda w: {"school_year": w.school_year.pk, "kind": "group", "name": "新教育集团"},
    payload_b=lambda w: {"school_year": w.other_school_year.pk, "kind": "group", "name": "邻县集团"},
    create_b=frozenset({"bureau_y"}),
    patch=lambda w: {"description": "更新"},
    expect={
        ("bureau", "delete"): (400, "a funded alliance is PROTECTed by the ledger (tests/test_api_errors.py)"),
        ("bureau", "delete_b"): (400, "a funded alliance is PROTECTed by the ledger (tests/test_api_errors.py)"),
    },
    admin_expect={
        ("bureau", "delete"): (200, PROTECTED_PAGE),
        ("bureau", "delete_b"): (200, PROTECTED_PAGE),
    },
)
rule(
    "membership",
    a_row=lambda w: w.membership,
    b_row=lambda w: w.other_membership,
    payload=lambda w: {"alliance": w.spare_alliance.pk, "school": w.member_school.pk, "role": "member"},
    payload_b=lambda w: {"alliance": w.spare_alliance.pk, "school": w.other_school.pk, "role": "member"},
    patch=lambda w: {"role": "member"},
)
rule(
    "pairing",
    a_row=lambda w: w.pairing,
    b_row=lambda w: w.other_pairing,
    payload=lambda w: {
        "alliance": w.alliance.pk,
        "helper_school": w.member_school.pk,
        "helped_school": w.lead_school.pk,
        "start_date": "2025-09-01",
        "focus_areas": ["teachers"],
    },
    payload_b=lambda w: {
        "alliance": w.other_alliance.pk,
        "helper_school": w.other_school.pk,
        "helped_school": w.other_lead_school.pk,
        "start_date": "2025-09-01",
    },
    patch=lambda w: {"focus_areas": ["management", "funds"]},
)
rule(
    "pairingtask",
    a_row=lambda w: w.task,
    b_row=lambda w: w.other_task,
    change=frozenset({"bureau", "lead", "principal"}),
    create=BUREAU,
    payload=lambda w: {
        "pairing": w.pairing.pk,
        "title": "同课异构",
        "due_date": "2026-01-10",
        "responsible_person": "李",
    },
    payload_b=lambda w: {
        "pairing": w.other_pairing.pk,
        "title": "送教下乡",
        "due_date": "2026-01-10",
        "responsible_person": "王",
    },
    patch=lambda w: {"progress_notes": "已完成两次教研"},
    # The list is the bureau's and the alliance lead's: a member school reports on its tasks
    # (PATCH) but does not delete one (issue 13, "approvals mean what they say").
    expect={("principal", "delete"): (403, "a member school reports on a pairing's task, never deletes it")},
    admin_expect={("principal", "delete"): (403, "a member school reports on a pairing's task, never deletes it")},
)

# Cross-county programmes (seed 002): county Y helps county X (A side: Y1 → school A) and a
# third county Z (B side). Both bureaus of a programme reach its rows; X's roles see the A side
# through school A (a participant), and nothing of Y's programme with Z.
PROGRAMME_READERS = COUNTY_X | {"bureau_y"}
PROGRAMME_PROTECTED = "PROTECTed by its exchanges, term meeting and funds: a programme with history stays"
rule(
    "programme",
    a_row=lambda w: w.programme,
    b_row=lambda w: w.other_programme,
    read=PROGRAMME_READERS,
    read_b=frozenset({"bureau_y"}),
    change=frozenset({"bureau", "bureau_y"}),
    change_b=frozenset({"bureau_y"}),
    create_b=frozenset({"bureau_y"}),
    payload=lambda w: {
        "name": "新帮扶项目",
        "helper_county": w.other_county.pk,
        "helped_county": w.county.pk,
        "start_date": "2025-09-01",
    },
    payload_b=lambda w: {
        "name": "新帮扶项目",
        "helper_county": w.other_county.pk,
        "helped_county": w.county_z.pk,
        "start_date": "2025-09-01",
    },
    patch=lambda w: {"agreement": "两地教育局商定：每学期一次帮扶例会"},
    expect={
        ("bureau", "create_b"): (403, "a programme of two other counties: a bureau of neither may not record it"),
        ("bureau", "delete"): (400, PROGRAMME_PROTECTED),
        ("bureau_y", "delete"): (400, PROGRAMME_PROTECTED),
        ("bureau_y", "delete_b"): (400, PROGRAMME_PROTECTED),
    },
    admin_expect={
        ("bureau", "delete"): (200, PROTECTED_PAGE),
        ("bureau_y", "delete"): (200, PROTECTED_PAGE),
        ("bureau_y", "delete_b"): (200, PROTECTED_PAGE),
    },
)

# --- staffing ---------------------------------------------------------------------------
OWN_SCHOOL = frozenset({"bureau", "principal"})  # rows owned by school A: its principal and the bureau
BOTH_SIDES = frozenset({"bureau", "lead", "principal"})  # pairs spanning the lead school and A

rule(
    "teacher",
    a_row=lambda w: w.teacher,
    b_row=lambda w: w.other_teacher,
    change=OWN_SCHOOL,
    elsewhere=frozenset({"lead"}),
    payload=lambda w: {"school": w.member_school.pk, "name": "新教师", "subject": "math", "years_of_service": 1},
    payload_b=lambda w: {"school": w.other_school.pk, "name": "他校教师", "subject": "math", "years_of_service": 1},
    patch=lambda w: {"years_of_service": 12},
    expect={  # the world's teachers have exchanges (tests/test_api_errors.py covers that refusal)
        ("bureau", "delete"): (400, "PROTECTed by the teacher's exchanges"),
        ("principal", "delete"): (400, "PROTECTed by the teacher's exchanges"),
        ("bureau", "delete_b"): (400, "PROTECTed by the teacher's exchanges"),
    },
    admin_expect={
        ("bureau", "delete"): (200, PROTECTED_PAGE),
        ("principal", "delete"): (200, PROTECTED_PAGE),
        ("bureau", "delete_b"): (200, PROTECTED_PAGE),
    },
)
rule(
    "exchange",
    a_row=lambda w: w.exchange,
    b_row=lambda w: w.other_exchange,
    change=OWN_SCHOOL,
    elsewhere=frozenset({"lead"}),
    payload=lambda w: {
        "kind": "shadowing", "teacher": w.spare_teacher.pk, "origin_school": w.member_school.pk,
        "hosts": [w.lead_school.pk], "subject": "math", "class_count": 1, "weekly_periods": 4,
        "start_date": "2026-03-01", "end_date": "2026-06-30",
    },
    payload_b=lambda w: {
        "kind": "shadowing", "teacher": w.other_teacher.pk, "origin_school": w.other_school.pk,
        "hosts": [w.other_lead_school.pk], "subject": "math", "class_count": 1, "weekly_periods": 4,
        "start_date": "2026-03-01", "end_date": "2026-06-30",
    },
    patch=lambda w: {"weekly_periods": 8},
)  # fmt: skip
rule(
    "mentorpair",
    a_row=lambda w: w.mentor_pair,
    b_row=lambda w: w.other_mentor_pair,
    change=BOTH_SIDES,
    # A write names only teachers the writer may read: the member principal does not read the
    # lead school's teacher (400; tests/test_rules_staffing.py).
    create=frozenset({"bureau", "lead"}),
    payload=lambda w: {
        "mentor": w.lead_teacher.pk, "mentee": w.spare_teacher.pk, "start_date": "2025-09-01", "goals": "站稳讲台",
    },
    payload_b=lambda w: {
        "mentor": w.other_lead_teacher.pk, "mentee": w.other_teacher.pk, "start_date": "2025-09-01", "goals": "x",
    },
    patch=lambda w: {"goals": "三年成为骨干"},
)  # fmt: skip
rule(
    "mentormeeting",
    a_row=lambda w: w.mentor_meeting,
    b_row=lambda w: w.other_mentor_meeting,
    change=BOTH_SIDES,
    payload=lambda w: {"pair": w.mentor_pair.pk, "date": "2025-11-11", "kind": "observation", "notes": "听课"},
    payload_b=lambda w: {"pair": w.other_mentor_pair.pk, "date": "2025-11-11", "kind": "observation"},
    patch=lambda w: {"notes": "评课"},
)
rule(
    "activity",
    a_row=lambda w: w.activity,
    b_row=lambda w: w.other_activity,
    change=OWN_SCHOOL,
    elsewhere=frozenset({"lead"}),
    payload=lambda w: {
        "kind": "training", "date": "2025-12-01", "host_school": w.member_school.pk,
        "schools": [w.lead_school.pk], "title": "青年教师培训", "person_times": 40,
    },
    payload_b=lambda w: {
        "kind": "training", "date": "2025-12-01", "host_school": w.other_school.pk, "title": "培训", "person_times": 4,
    },
    patch=lambda w: {"person_times": 45},
)  # fmt: skip
rule(
    "activityattachment",
    a_row=lambda w: w.attachment,
    b_row=lambda w: w.other_attachment,
    change=OWN_SCHOOL,
    elsewhere=frozenset({"lead"}),
    multipart=True,
    payload=lambda w: {"activity": w.activity.pk, "file": _upload("agenda.pdf"), "caption": "议程"},
    payload_b=lambda w: {"activity": w.other_activity.pk, "file": _upload("photo.pdf"), "caption": "照片"},
    patch=lambda w: {"caption": "签到表"},
)
# Supervision (seed 004): the school's assigned supervisor (the assessor) and the bureau log
# visits and set rectification items; a visit is corrected, never deleted; the principal's
# answer and the closing are actions (tests/test_supervision.py).
SUPERVISORS = frozenset({"bureau", "assessor"})
rule(
    "supervisionvisit",
    a_row=lambda w: w.visit,
    b_row=lambda w: w.other_visit,
    change=SUPERVISORS,
    payload=lambda w: {
        "school": w.member_school.pk,
        "date": "2025-11-05",
        "forms": ["talks"],
        "findings": "课堂常规良好",
    },
    payload_b=lambda w: {"school": w.other_school.pk, "date": "2025-11-06", "forms": ["reports"]},
    patch=lambda w: {"findings": "作业量偏多"},
    unsupported=frozenset({"delete"}),
)
rule(
    "rectification",
    a_row=lambda w: w.rectification,
    b_row=lambda w: w.other_rectification,
    change=SUPERVISORS,
    payload=lambda w: {"visit": w.visit.pk, "item": "规范作业布置", "due_date": "2025-12-01"},
    payload_b=lambda w: {"visit": w.other_visit.pk, "item": "更新安全台账", "due_date": "2025-12-01"},
    unsupported=frozenset({"patch", "delete"}),
    # an item, once set, is answered and closed through the API's actions, not edited in the admin
    admin_change=frozenset(),
    admin_change_b=frozenset(),
)

# --- funding ----------------------------------------------------------------------------
rule(
    "fundingyear",
    a_row=lambda w: w.draft_year,
    b_row=lambda w: w.other_draft_year,
    read_b=frozenset({"bureau_y"}),
    change_b=frozenset({"bureau_y"}),
    create_b=frozenset({"bureau_y"}),
    payload=lambda w: {"county": w.county.pk, "school_year": w.school_year_2027.pk},
    payload_b=lambda w: {"county": w.other_county.pk, "school_year": w.other_school_year_2026.pk},
    patch=lambda w: {"base_quota": "210000.00"},
    unsupported=frozenset({"delete"}),
    admin_delete=BUREAU,  # a draft year, nothing booked yet
    admin_delete_b=frozenset({"bureau_y"}),
    admin_expect={
        ("bureau", "delete_b"): (404, "the admin deletes draft years, but not another county's"),
        ("bureau_y", "delete"): (404, "the admin deletes draft years, but not another county's"),
    },
)
rule(
    "fundingquota",
    a_row=lambda w: w.quota,
    b_row=lambda w: w.other_quota,
    payload=lambda w: {"funding_year": w.draft_year.pk, "school": w.lead_school.pk, "quota": "200000.00"},
    payload_b=lambda w: {"funding_year": w.draft_year.pk, "school": w.other_lead_school.pk, "quota": "200000.00"},
    patch=lambda w: {"quota": "190000.00"},
)
rule(
    "account",
    a_row=lambda w: w.spending_account,
    b_row=lambda w: w.other_spending_account,
    change=frozenset(),
    change_b=frozenset(),
    create_b=frozenset(),
    readonly=True,
)
rule(
    "ledgerentry",
    a_row=lambda w: w.spending_entry,
    b_row=lambda w: w.other_spending_entry,
    change=frozenset(),
    change_b=frozenset(),
    create_b=frozenset(),
    readonly=True,
)
rule(
    "spendingplan",
    a_row=lambda w: w.plan,
    b_row=lambda w: w.other_plan,
    read=frozenset({"bureau", "auditor", "lead"}),  # every member school's lines: the lead school's plan
    change=frozenset(),
    change_b=frozenset(),
    # Creating is the lead principal's, once per alliance and year (tests/test_funding_api.py);
    # here A1 already has its plan, so the lead principal too is refused (400: revise instead).
    create=frozenset(),
    create_b=frozenset(),
    elsewhere=frozenset({"lead", "principal"}),
    admin_change=frozenset({"bureau", "lead"}),
    admin_change_b=frozenset({"bureau"}),
    admin_expect=NO_ADMIN_ADD,
    payload=lambda w: {"funding_year": w.open_year.pk, "alliance": w.alliance.pk},
    payload_b=lambda w: {"funding_year": w.open_year.pk, "alliance": w.other_alliance.pk},
    unsupported=frozenset({"patch", "delete"}),
    expect={
        ("bureau", "create"): (403, "plans are the lead principal's (the service's role check)"),
        ("bureau", "create_b"): (403, "plans are the lead principal's (the service's role check)"),
        ("principal", "create"): (403, "plans are the lead principal's (the service's role check)"),
        ("principal", "create_b"): (403, "a member principal creates no plans, whichever alliance it names"),
        ("bureau_y", "create"): (403, "bureau staff create no plans (the role check comes before the body)"),
        ("bureau_y", "create_b"): (403, "bureau staff create no plans (the role check comes before the body)"),
    },
)
rule(
    "planline",
    a_row=lambda w: w.draft_line,
    b_row=lambda w: w.other_draft_line,
    change=frozenset({"bureau", "lead"}),
    elsewhere=frozenset({"principal"}),
    payload=lambda w: {"plan": w.draft_plan.pk, "school": w.lead_school.pk, "category": "clubs", "amount": "1000.00"},
    payload_b=lambda w: {
        "plan": w.other_draft_plan.pk, "school": w.other_school.pk, "category": "clubs", "amount": "1.00",
    },
    patch=lambda w: {"notes": "购置图书"},
)  # fmt: skip
rule(
    "spendingrecord",
    a_row=lambda w: w.record,
    b_row=lambda w: w.other_record,
    change=frozenset(),
    change_b=frozenset(),
    create=frozenset({"lead", "principal"}),
    create_b=frozenset(),
    elsewhere=frozenset({"bureau"}),
    admin_expect=NO_ADMIN_ADD,
    payload=lambda w: {"plan_line": w.line.pk, "date": "2025-11-02", "amount": "120.50", "payee": "新华书店"},
    payload_b=lambda w: {"plan_line": w.other_line.pk, "date": "2025-11-02", "amount": "1.00", "payee": "x"},
    unsupported=frozenset({"patch", "delete"}),
    expect={
        (role, op): (403, "bureau staff record no spending anywhere (the role check comes before the body)")
        for role in ("bureau", "bureau_y")
        for op in ("create", "create_b")
    },
)

# A programme's working funds are the helper county's books (county Y's): X's roles see none of
# them, not even those of the programme helping X.
Y_BOOKS = frozenset({"bureau_y"})
BOOKED = "the fund is booked: its amount and split are fixed"
rule(
    "programmefund",
    a_row=lambda w: w.programme_fund,
    b_row=lambda w: w.other_programme_fund,
    read=Y_BOOKS,
    read_b=Y_BOOKS,
    change=Y_BOOKS,
    change_b=Y_BOOKS,
    create_b=Y_BOOKS,
    payload=lambda w: {
        "funding_year": w.other_draft_year.pk,
        "programme": w.programme.pk,
        "helper_school": w.y_school.pk,
        "amount": "100000.00",
        "spend_share": "1.00",
    },
    payload_b=lambda w: {
        "funding_year": w.other_draft_year.pk,
        "programme": w.other_programme.pk,
        "helper_school": w.y_school.pk,
        "amount": "100000.00",
        "spend_share": "0.70",
    },
    patch=lambda w: {"amount": "90000.00"},
    expect={
        ("bureau_y", "update"): (400, BOOKED),
        ("bureau_y", "update_b"): (400, BOOKED),
        ("bureau_y", "delete"): (400, BOOKED),
        ("bureau_y", "delete_b"): (400, BOOKED),
    },
    admin_expect={
        ("bureau_y", "delete"): (200, PROTECTED_PAGE),
        ("bureau_y", "delete_b"): (200, PROTECTED_PAGE),
    },
)
SPENT_ON = "money is spent on the line: it stays"
rule(
    "programmefundline",
    a_row=lambda w: w.programme_line,
    b_row=lambda w: w.other_programme_line,
    read=Y_BOOKS,
    read_b=Y_BOOKS,
    change=Y_BOOKS,
    change_b=Y_BOOKS,
    create_b=Y_BOOKS,
    elsewhere=frozenset({"lead", "principal"}),
    payload=lambda w: {
        "fund": w.programme_fund.pk,
        "helped_school": w.member_school.pk,
        "category": "clubs",
        "amount": "100.00",
    },
    payload_b=lambda w: {
        "fund": w.other_programme_fund.pk,
        "helped_school": w.z_school.pk,
        "category": "clubs",
        "amount": "1.00",
    },
    patch=lambda w: {"notes": "送教下乡培训"},
    expect={("bureau_y", "delete"): (400, SPENT_ON), ("bureau_y", "delete_b"): (400, SPENT_ON)},
)
rule(
    "programmespending",
    a_row=lambda w: w.programme_spending,
    b_row=lambda w: w.other_programme_spending,
    read=Y_BOOKS,
    read_b=Y_BOOKS,
    change=frozenset(),
    change_b=frozenset(),
    create=Y_BOOKS,
    create_b=Y_BOOKS,
    elsewhere=frozenset({"lead", "principal"}),
    admin_expect=NO_ADMIN_ADD,
    payload=lambda w: {"line": w.programme_line.pk, "date": "2024-11-02", "amount": "120.50", "payee": "新华书店"},
    payload_b=lambda w: {"line": w.other_programme_line.pk, "date": "2024-11-02", "amount": "1.00", "payee": "x"},
    unsupported=frozenset({"patch", "delete"}),
)

# --- evaluation -------------------------------------------------------------------------
# The evaluation's own create views look the named school year up themselves: a row named in the
# body and out of reach is a 400 on that field, as in every serializer-validated endpoint.
NAMED_ELSEWHERE = "names another county's school year: a 400 on the field (the URL was found; the body is wrong)"
COUNTY_Y = {"read_b": frozenset({"bureau_y"}), "change_b": frozenset(), "create_b": frozenset()}
rule(
    "rubric",
    a_row=lambda w: w.rubric,
    b_row=lambda w: w.other_rubric,
    change=frozenset(),  # the world's rubric is locked by its values: a PATCH is refused (400)
    create=BUREAU,
    payload=lambda w: _rubric_payload(w.school_year_2027),
    payload_b=lambda w: _rubric_payload(w.other_school_year_2026),
    patch=lambda w: {"beta": "0.30"},
    unsupported=frozenset({"delete"}),
    read_b=frozenset({"bureau_y"}),
    change_b=frozenset({"bureau_y"}),  # county Y's rubric has no values yet: still editable
    create_b=frozenset({"bureau_y"}),
    admin_delete_b=frozenset({"bureau_y"}),  # an unlocked draft may be thrown away in the admin
    admin_expect={
        ("bureau", "delete_b"): (404, "the admin deletes unlocked drafts, but not another county's"),
        ("bureau_y", "delete"): (404, "the admin deletes unlocked drafts, but not another county's"),
    },
    expect={
        ("bureau", "update"): (400, "the rubric is locked by its entered values: a rule, not scope"),
        ("bureau", "create_b"): (400, NAMED_ELSEWHERE),
        ("bureau_y", "create"): (400, NAMED_ELSEWHERE),
    },
)
rule(
    "indicator",
    a_row=lambda w: w.indicator,
    b_row=lambda w: w.other_indicator,
    change=frozenset(),
    readonly=True,
    **COUNTY_Y,
)
rule(
    "evaluationperiod",
    a_row=lambda w: w.period,
    b_row=lambda w: w.other_period,
    change=frozenset(),
    create=BUREAU,
    payload=lambda w: {"school_year": w.school_year.pk, "term": w.term_2.pk},
    payload_b=lambda w: {"school_year": w.other_school_year.pk, "term": w.other_term.pk},
    unsupported=frozenset({"patch", "delete"}),
    admin_change=BUREAU,  # the notice length, in the admin form
    admin_change_b=frozenset({"bureau_y"}),
    read_b=frozenset({"bureau_y"}),
    change_b=frozenset(),
    create_b=frozenset({"bureau_y"}),
    expect={
        ("bureau", "create_b"): (400, NAMED_ELSEWHERE),
        ("bureau_y", "create"): (400, NAMED_ELSEWHERE),
    },
)
rule(
    "indicatorvalue",
    a_row=lambda w: w.value,
    b_row=lambda w: w.other_value,
    change=frozenset(),
    create=frozenset({"bureau", "assessor"}),  # the assessor enters scores for its assigned school A
    payload=lambda w: {"period": w.term_period.pk, "indicator": w.indicator_care.pk, "school": w.member_school.pk,
                       "value": "88"},
    payload_b=lambda w: {"period": w.term_period.pk, "indicator": w.indicator_care.pk, "school": w.other_school.pk,
                         "value": "77"},
    unsupported=frozenset({"patch", "delete"}),
    admin_change=frozenset({"bureau", "assessor"}),  # the admin form re-enters a value through the service
    admin_change_b=BUREAU,
)  # fmt: skip
RESULT_READERS = COUNTY_X  # once proposed (公示), a school's result reaches its principal, lead and assessor
for basename, a, b, readers in (
    ("schoolresult", "result", "other_result", RESULT_READERS),
    # every school's final score is in an alliance result's trace: the lead school's, not a member's
    ("allianceresult", "alliance_result", "other_alliance_result", frozenset({"bureau", "auditor", "lead"})),
    ("declinewarning", "warning", "other_warning", RESULT_READERS),
):
    rule(
        basename,
        a_row=lambda w, a=a: getattr(w, a),
        b_row=lambda w, b=b: getattr(w, b),
        read=readers,
        change=frozenset(),
        change_b=frozenset(),
        create_b=frozenset(),
        readonly=True,
    )
# A teacher's result (seed 003): its school's principal, the lead principal of its alliance and the
# county's readers; school B's teacher is in another alliance. A principal's own result and the
# other principals' 404s are tests/test_people_evaluation.py's.
rule(
    "personresult",
    a_row=lambda w: w.person_result,
    b_row=lambda w: w.other_person_result,
    read=frozenset({"bureau", "auditor", "principal", "lead"}),  # not the assessor: it enters values only
    change=frozenset(),
    change_b=frozenset(),
    create_b=frozenset(),
    readonly=True,
)
rule(
    "evaluationrun",
    a_row=lambda w: w.run,
    b_row=lambda w: w.other_run,
    read=COUNTY_READERS,
    readonly=True,
    change=frozenset(),
    **COUNTY_Y,
)
rule(
    "appeal",
    a_row=lambda w: w.appeal,
    b_row=lambda w: w.other_appeal,
    change=frozenset(),
    change_b=frozenset(),
    create=frozenset({"lead", "principal"}),  # each for its own school, during the notice period
    create_b=frozenset(),
    admin_expect=NO_ADMIN_ADD,
    payload=lambda w: {"period": w.period.pk, "indicator": w.indicator_care.pk, "reason": "家长问卷样本过少"},
    payload_b=lambda w: {"period": w.other_period.pk, "indicator": w.other_indicator.pk, "reason": "复核"},
    unsupported=frozenset({"patch", "delete"}),
    expect={
        (role, op): (403, "appeals are the schools' (the create action's roles)")
        for role in ("bureau", "bureau_y")
        for op in ("create", "create_b")
    },
    admin_change=frozenset({"bureau", "principal"}),  # the filer amends, the bureau decides, in the admin
    admin_change_b=BUREAU,
)
rule(
    "awardpolicy",
    a_row=lambda w: w.policy,
    b_row=lambda w: w.other_policy,
    payload=lambda w: {"county": w.county.pk, "school_year": w.school_year_2027.pk, "kind": "proportional"},
    payload_b=lambda w: {"county": w.other_county.pk, "school_year": w.other_school_year_2026.pk, "kind": "tiers"},
    patch=lambda w: {"pass_threshold": "60.00"},
    read_b=frozenset({"bureau_y"}),
    change_b=frozenset({"bureau_y"}),
    create_b=frozenset({"bureau_y"}),
)
rule(
    "publication",
    a_row=lambda w: w.publication,
    b_row=lambda w: w.other_publication,
    read=COUNTY_READERS,  # every school's frozen award: not for principals
    change=frozenset(),
    readonly=True,
    **COUNTY_Y,
)
