"""The fund ledger line by line, the balances per account, and the 70 % plan against spending."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Case, CharField, Q, QuerySet, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from funding.metrics import execution_report
from funding.models import Account, Category, FundingYear, LedgerEntry, LedgerLine, PlanLine
from funding.querysets import APPROVED_PLAN, money_sum

from ..expressions import choice_label, first_text, sentence
from ..registry import Column, Params, register
from ..scoping import COUNTS, any_school, checked, labels, school_ids, span

ZERO = Decimal("0.00")

LEDGER_COLUMNS = (
    Column("entry", gettext_lazy("Entry no."), "int"),
    Column("booked_at", gettext_lazy("Booked at"), "datetime"),
    Column("document_type", gettext_lazy("Document type")),
    Column("document", gettext_lazy("Document")),
    Column("account", gettext_lazy("Account")),
    Column("owner", gettext_lazy("Account holder")),
    Column("amount", gettext_lazy("Amount (debit +, credit −)"), "money"),
    Column("memo", gettext_lazy("Memo or reason")),
    Column("booked_by", gettext_lazy("Booked by")),
)
# The ledger's columns as read (``ledger_lines``); the bench's COPY reads the same query.
LEDGER_FIELDS = (
    "entry_id", "entry__created_at", "entry__kind", "entry__school__code", "entry__school__name",
    "entry__spending_record_id", "entry__spending_record__payee", "entry__reverses_id", "account__kind",
    "account__alliance__name", "account__school__name", "amount", "entry__memo", "entry__reason",
    "entry__created_by__username",
)  # fmt: skip


def funding_year(params: Params) -> FundingYear | None:
    return FundingYear.objects.filter(county_id=params.county_id, school_year_id=params.school_year_id).first()


def _ledger_lines(user: Any, params: Params) -> QuerySet:
    """The ledger lines of the report (``params`` already checked), in booking order."""
    start, end = span(params)
    lines = LedgerLine.objects.visible_to(user).filter(
        entry__funding_year__county_id=params.county_id, entry__funding_year__school_year_id=params.school_year_id
    )
    if params.term_id is not None:
        lines = lines.filter(entry__created_at__date__gte=start, entry__created_at__date__lte=end)
    schools = school_ids(params)
    if schools is not None:
        q = any_school(schools, "account__school_id", "entry__school_id")
        if params.alliance_id is not None and params.school_id is None:
            q |= Q(account__alliance_id=params.alliance_id)
        lines = lines.filter(q)
    return lines.order_by("entry_id", "pk")


def ledger_lines(user: Any, params: Params) -> QuerySet:
    """The report's lines with their fields as stored (``LEDGER_FIELDS``)."""
    return _ledger_lines(user, params).values_list(*LEDGER_FIELDS)


def _ledger_rows(user: Any, params: Params) -> QuerySet:
    """The report's rows, one query: each line's document (the spending record, else the
    reversed entry, else the funded school), its document type and account in words, the
    account's holder, the reason (else the memo) and who booked it."""
    document = Case(
        When(entry__spending_record__isnull=False, then=sentence(
            _("Spending record #%(id)s: %(payee)s"), id="entry__spending_record_id",
            payee="entry__spending_record__payee")),
        When(entry__reverses__isnull=False, then=sentence(_("Reverses entry #%(id)s"), id="entry__reverses_id")),
        When(entry__school__isnull=False, then=sentence(
            _("Funded school: %(code)s %(name)s"), code="entry__school__code", name="entry__school__name")),
        default=Value(""),
        output_field=CharField(),
    )  # fmt: skip
    return (
        _ledger_lines(user, params)
        .annotate(
            r_kind=choice_label("entry__kind", labels(LedgerEntry.Kind.choices)),
            r_document=document,
            r_account=choice_label("account__kind", labels(Account.Kind.choices)),
            r_owner=first_text("account__alliance__name", "account__school__name"),
            r_memo=first_text("entry__reason", "entry__memo"),
        )
        .values_list("entry_id", "entry__created_at", "r_kind", "r_document", "r_account", "r_owner", "amount",
                     "r_memo", "entry__created_by__username")
    )  # fmt: skip


@register(code="ledger", title=gettext_lazy("Fund ledger"), columns=LEDGER_COLUMNS)
def ledger(user: Any, params: Params) -> QuerySet:
    """Every line of every entry, with its document and who booked it."""
    return _ledger_rows(user, checked(user, "ledger", params))


COUNTS["ledger"] = lambda user, params: ledger_lines(user, checked(user, "ledger", params)).count()


def accounts(user: Any, params: Params) -> QuerySet:
    """The accounts of the report with their debits, credits and balance at the span's end."""
    _start, end = span(params)
    accounts = Account.objects.visible_to(user).filter(
        funding_year__county_id=params.county_id, funding_year__school_year_id=params.school_year_id
    )
    schools = school_ids(params)
    if params.school_id is not None:
        accounts = accounts.filter(
            Q(school_id=params.school_id)
            | Q(pk__in=Account.objects.filter(alliance__memberships__school_id=params.school_id,
                                              alliance__memberships__role="lead").values("pk"))
        )  # fmt: skip
    elif schools is not None:
        accounts = accounts.filter(Q(school_id__in=schools) | Q(alliance_id=params.alliance_id))
    within = Q(lines__entry__created_at__date__lte=end) if params.term_id is not None else Q()
    return accounts.annotate(
        debits=money_sum("lines__amount", filter=within & Q(lines__amount__gt=0)),
        credits=money_sum("lines__amount", filter=within & Q(lines__amount__lt=0)),
        balance=money_sum("lines__amount", filter=within),
    ).order_by("kind", "alliance__name", "school__code", "pk")


BALANCE_COLUMNS = (
    Column("account", gettext_lazy("Account")),
    Column("owner", gettext_lazy("Account holder")),
    Column("school_code", gettext_lazy("School code")),
    Column("debits", gettext_lazy("Debits"), "money"),
    Column("credits", gettext_lazy("Credits"), "money"),
    Column("balance", gettext_lazy("Balance"), "money"),
)


def _balance_rows(user: Any, params: Params) -> Iterator[tuple[Any, ...]]:
    kinds = labels(Account.Kind.choices)
    rows = accounts(user, params).values_list(
        "kind", "alliance__name", "school__name", "school__code", "debits", "credits", "balance"
    )
    for kind, alliance, school, code, debits, credits, balance in rows.iterator(chunk_size=2000):
        yield kinds.get(kind, kind), alliance or school or "", code or "", debits, -credits, balance


@register(code="balances", title=gettext_lazy("Balances per account"), columns=BALANCE_COLUMNS)
def balances(user: Any, params: Params) -> Iterator[tuple[Any, ...]]:
    """Each account's debits, credits (as a positive sum) and balance (debits − credits)."""
    return _balance_rows(user, checked(user, "balances", params))


EXECUTION_COLUMNS = (
    Column("alliance", gettext_lazy("Alliance")),
    Column("school_code", gettext_lazy("School code")),
    Column("school", gettext_lazy("School")),
    Column("category", gettext_lazy("Category")),
    Column("planned", gettext_lazy("Planned"), "money"),
    Column("spent", gettext_lazy("Spent"), "money"),
    Column("rate", gettext_lazy("Execution rate (%)"), "decimal"),
)
PERCENT = Decimal("0.01")
RATE = Decimal("0.0001")


def _percent(rate: Decimal) -> Decimal:
    return (rate * 100).quantize(PERCENT)


def _total_rate(spent: Decimal, planned: Decimal) -> Decimal:
    """An alliance's rate as ``execution_report`` rounds each line's (four decimals, half up)."""
    return _percent((spent / planned).quantize(RATE, rounding=ROUND_HALF_UP) if planned else ZERO)


def _execution_rows(user: Any, params: Params) -> Iterator[tuple[Any, ...]]:
    year = funding_year(params)
    if year is None:
        return
    lines = PlanLine.objects.visible_to(user).filter(plan__funding_year=year, plan__status=APPROVED_PLAN)
    schools = school_ids(params)
    if schools is not None:
        lines = lines.filter(school_id__in=schools)
    reach = set(lines.values_list("plan__alliance_id", "school_id"))
    codes = dict(PlanLine.objects.filter(plan__funding_year=year).values_list("school_id", "school__code"))
    categories = labels(Category.choices)
    total_label = _("Alliance total")
    alliance, planned, spent, name = None, ZERO, ZERO, ""
    for row in execution_report(year):
        if (row["alliance"], row["school"]) not in reach:
            continue
        if alliance is not None and row["alliance"] != alliance:
            yield name, "", total_label, "", planned, spent, _total_rate(spent, planned)
            planned, spent = ZERO, ZERO
        alliance, name = row["alliance"], row["alliance_name"]
        planned += row["planned"]
        spent += row["spent"]
        yield (
            row["alliance_name"],
            codes.get(row["school"], ""),
            row["school_name"],
            categories.get(row["category"], row["category"]),
            row["planned"],
            row["spent"],
            _percent(row["rate"]),
        )
    if alliance is not None:
        yield name, "", total_label, "", planned, spent, _total_rate(spent, planned)


@register(code="execution", title=gettext_lazy("70 % plan against spending"), columns=EXECUTION_COLUMNS)
def execution(user: Any, params: Params) -> Iterator[tuple[Any, ...]]:
    """The approved plan against booked spending per alliance, school and category, with the
    execution rate, and each alliance's total (the plan is the year's: the term does not narrow it)."""
    return _execution_rows(user, checked(user, "execution", params))
