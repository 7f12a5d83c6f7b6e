"""The admin obeys the same access checkpoint as the API: every model admin, every role
(anonymous too), through the changelist, the change page of the A-side and the B-side row, the
add page and the delete confirmation, one status per (model, role, page).

The models come from the permission table (``tests/permission_table.py``), plus ``ADMIN_ONLY``
for the model admins that have no API endpoint.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from config.urls import router
from evaluation.models import NightlySchedule
from evaluation.services import nightly_schedules_ensure

from .permission_table import BUREAU, COUNTY_READERS, COUNTY_X, PROTECTED_PAGE, ROLES, TABLE, Rule

pytestmark = pytest.mark.django_db

PAGES = ("changelist", "change", "change_b", "add", "delete", "delete_b")
PROJECT_APPS = ("alliance", "staffing", "funding", "evaluation")


def _schedule(county):
    # Every county's schedule exists before a page is opened (the changelist links both).
    nightly_schedules_ensure()
    return NightlySchedule.objects.get(county=county)


# Model admins with no API endpoint: their rows here, like the table's.
ADMIN_ONLY: dict[str, Rule] = {
    # county X's member principal and county Y's auditor: bureau staff manage their county's accounts
    "alliance.User": Rule(
        a_row=lambda w: w.principal,
        b_row=lambda w: w.other_auditor,
        read=BUREAU,
        read_b=frozenset({"bureau_y"}),
        change=BUREAU,
        change_b=frozenset({"bureau_y"}),
        admin_expect={
            **{
                (role, page): (403, "the user admin is bureau staff's alone")
                for role in ("lead", "principal", "assessor", "auditor")
                for page in ("changelist", "change", "change_b")
            },
            ("bureau", "delete"): (200, PROTECTED_PAGE),
        },
    ),
    # a dimension of each county's rubric (county X's is locked by its values)
    "evaluation.Dimension": Rule(
        a_row=lambda w: w.rubric.dimensions.first(),
        b_row=lambda w: w.other_rubric.dimensions.first(),
        read=COUNTY_X,
        read_b=frozenset({"bureau_y"}),
        change=frozenset(),
        change_b=frozenset({"bureau_y"}),
        admin_expect={
            ("bureau_y", "delete_b"): (302, "refused: a dimension is deleted on its rubric's page (the points left)"),
        },
    ),
    # each county's nightly schedule, made per county; its bureau changes the time and on/off
    "evaluation.NightlySchedule": Rule(
        a_row=lambda w: _schedule(w.county),
        b_row=lambda w: _schedule(w.other_county),
        read=COUNTY_READERS,
        read_b=frozenset({"bureau_y"}),
        change=BUREAU,
        change_b=frozenset({"bureau_y"}),
        admin_expect={
            **{(role, "add"): (403, "one schedule per county, made for it") for role in ("bureau", "bureau_y")},
            **{
                (role, page): (403, "a schedule is never deleted (refused before the row is looked up)")
                for role in ("bureau", "bureau_y")
                for page in ("delete", "delete_b")
            },
        },
    ),
}
# Model admins tested elsewhere, and where.
ADMIN_ELSEWHERE = {
    "evaluation.Correction": "tests/test_evaluation_corrections.py: proposed and approved in the admin, four eyes",
}
MODELS = {basename: viewset.queryset.model for _, viewset, basename in router.registry}
ADMIN_ROWS: dict[str, Rule] = {
    **{MODELS[basename]._meta.label: rule for basename, rule in TABLE.items()},
    **ADMIN_ONLY,
}
ADMINS = sorted(
    label for label in ADMIN_ROWS if any(m._meta.label == label for m in admin.site._registry)
)  # fmt: skip


def test_every_model_admin_is_covered():
    registered = {m._meta.label for m in admin.site._registry if m._meta.app_label in PROJECT_APPS}
    missing = registered - set(ADMIN_ROWS) - set(ADMIN_ELSEWHERE)
    assert missing == set(), "model admins without a row here or in tests/permission_table.py"


def test_admin_exceptions_name_real_cases():
    for label, rule in ADMIN_ROWS.items():
        for role, page in rule.admin_expect:
            assert role in ROLES and page in PAGES, (label, role, page)


def _admin_url(model, view: str, pk=None) -> str:
    meta = model._meta
    name = f"admin:{meta.app_label}_{meta.model_name}_{view}"
    return reverse(name) if pk is None else reverse(name, args=[pk])


def changers(rule: Rule, side_b: bool) -> frozenset[str]:
    """Who may change the row in the admin: the API's ``change`` unless the row says otherwise."""
    if side_b:
        return rule.change_b if rule.admin_change_b is None else rule.admin_change_b
    return rule.change if rule.admin_change is None else rule.admin_change


def expected(rule: Rule, role: str, page: str) -> tuple[int, str]:
    """The one status ``role`` gets on ``page``, and why."""
    if (role, page) in rule.admin_expect:
        return rule.admin_expect[(role, page)]
    if role == "anonymous":
        return 302, "to the login page"
    kind, side_b = page.removesuffix("_b"), page.endswith("_b")
    readers = rule.read_b if side_b else rule.read
    if kind == "changelist":
        return 200, "every role lists; the rows are scoped"
    if kind == "change":
        return (200, "the role reads the row") if role in readers else (404, "the row is outside what it sees")
    writes = not rule.readonly and role in rule.writers
    if kind == "add":
        return (200, "the role writes such rows") if writes else (403, "the role may not add such rows at all")
    if role in (rule.admin_delete_b if side_b else rule.admin_delete):
        return 302, "deleted"
    if not writes or "delete" in rule.unsupported:
        return 403, "the role may not delete such rows at all"
    if role not in readers:
        return 404, "the row is outside what the role sees"
    if role not in changers(rule, side_b):
        return 403, "the role sees the row but may not change it"
    return 302, "deleted"


CASES = [pytest.param(label, role, page, id=f"{label}-{role}-{page}") for label in ADMINS for role in ROLES
         for page in PAGES]  # fmt: skip


@pytest.mark.parametrize(("label", "role", "page"), CASES)
def test_admin_scoping(world, label, role, page):
    # given the model's A-side or B-side row and a browser logged in as the role
    rule = ADMIN_ROWS[label]
    status, why = expected(rule, role, page)
    side_b = page.endswith("_b")
    row = (rule.b_row if side_b else rule.a_row)(world)
    model = type(row)
    client = Client()
    if role != "anonymous":
        client.force_login(world.users[role])

    # when it opens the page (or confirms the deletion)
    kind = page.removesuffix("_b")
    if kind == "changelist":
        response = client.get(_admin_url(model, "changelist"))
    elif kind == "add":
        response = client.get(_admin_url(model, "add"))
    elif kind == "change":
        response = client.get(_admin_url(model, "change", row.pk))
    else:
        response = client.post(_admin_url(model, "delete", row.pk), {"post": "yes"})
    assert response.status_code == status, (why, response.status_code)

    # then the changelist links exactly the rows the role reads, a change page offers saving
    # exactly to the role that may change the row, and only a deletion that redirects (not to the
    # login page) deletes
    body = response.content.decode()
    if kind == "changelist" and status == 200:
        for other, readers in ((rule.a_row(world), rule.read), (rule.b_row(world), rule.read_b)):
            link = _admin_url(model, "change", other.pk)
            assert (f'href="{link}"' in body) == (role in readers), (other, "linked?")
    elif kind == "change" and status == 200:
        assert ('name="_save"' in body) == (role in changers(rule, side_b)), "save button?"
    elif kind == "delete":
        deleted = status == 302 and role != "anonymous" and not why.startswith("refused")
        assert model._default_manager.filter(pk=row.pk).exists() != deleted
