"""A result's trace as the admin shows it: tables in words (grades, methods, rules, sources and
policies by their names, in the user's language) instead of JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .models import AwardPolicy, Grade, Indicator, Rubric

SOURCES = {
    "entered": lambda: _("entered"),
    "override": lambda: _("entered over the computed value"),
    "metric": lambda: _("computed from logged data"),
    "missing": lambda: _("missing (no value)"),
}
# Keyed by what a trace (JSON) holds, which may be anything or absent.
SNAPSHOT: dict[Any, Callable[[], Any]] = {
    "verified": lambda: _("verified: the rubric's words are those it was computed with"),
    "mismatch": lambda: _("mismatch: the stored rubric text was altered"),
    "missing": lambda: _("missing: the rubric's words are not stored"),
}
ROLES: dict[Any, Callable[[], Any]] = {"lead": lambda: _("lead school"), "member": lambda: _("member school")}


def _label(choices: Any, value: Any) -> str:
    """A choice's words, or the value itself if it is not one of them."""
    try:
        return str(choices(value).label)
    except ValueError:
        return "" if value is None else str(value)


def grade_words(code: Any) -> str:
    return _label(Grade, code)


def rule_words(code: Any) -> str:
    return _label(Indicator.Rule, code)


def _plain(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def _rows(pairs: list[tuple[str, Any]]) -> SafeString:
    return format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", ((k, _plain(v)) for k, v in pairs))


def _table(caption: str, body: SafeString, head: SafeString | str = "") -> SafeString:
    return format_html(
        '<table class="trace-table"><caption>{}</caption>{}<tbody>{}</tbody></table>', caption, head, body
    )


def _source(code: Any) -> str:
    words = SOURCES.get(code)
    return words() if words else _plain(code)


def _indicators(indicators: list[dict[str, Any]]) -> SafeString:
    columns = [_("Dimension"), _("Indicator"), _("Method"), _("Source"), _("Raw value"), _("Rule"),
               _("Rule parameters"), _("Direction"), _("Max points"), _("Points")]  # fmt: skip
    head = format_html("<thead><tr>{}</tr></thead>", format_html_join("", "<th>{}</th>", ((c,) for c in columns)))
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td></tr>",
        (
            (
                _plain(i.get("dimension")),
                i.get("name") or i.get("code"),
                _label(Indicator.Method, i.get("method")) or "—",
                _source(i.get("source")),
                _plain(i.get("raw_value")),
                rule_words(i.get("rule")) or "—",
                _plain(i.get("rule_params")),
                _label(Indicator.Direction, i.get("direction")) or "—",
                _plain(i.get("max_points")),
                _plain(i.get("points")),
            )
            for i in indicators
        ),
    )
    return _table(_("Indicators"), rows, head)


def _bands(bands: dict[str, Any]) -> str:
    return ", ".join(f"{grade_words(g)} ≥ {v}" for g, v in bands.items()) or "—"


def trace_table(trace: dict[str, Any]) -> SafeString:
    """The explained trace (``trace.explain``) of a school result, an alliance result's trace,
    or an older trace: its parts as tables; what is not known here as plain key–value rows."""
    if not trace:
        return mark_safe("—")
    trace = dict(trace)
    parts = []
    rubric = trace.pop("rubric", None)
    if isinstance(rubric, dict):
        parts.append(
            _table(
                _("Rubric"),
                _rows(
                    [
                        (_("version"), rubric.get("version")),
                        (_("content hash"), (rubric.get("hash") or "")[:12]),
                        (_("words checked"), SNAPSHOT.get(rubric.get("snapshot"), lambda: None)()),
                    ]
                ),
            )
        )
    indicators = trace.pop("indicators", None)
    if isinstance(indicators, list):
        parts.append(_indicators(indicators))
    summary: list[tuple[str, Any]] = []
    if "own_total" in trace:
        summary.append((_("own total"), trace.pop("own_total")))
    bundling = trace.pop("bundling", None)
    if isinstance(bundling, dict):
        summary += [
            (_("bundled as"), ROLES.get(bundling.get("role"), lambda: bundling.get("role"))()),
            (_("bundling basis"), _label(Rubric.BundlingBasis, bundling.get("basis"))),
            (_("bundling weight β"), bundling.get("beta")),
            (_("member schools' figures"), ", ".join(str(b) for b in bundling.get("basis_values") or []) or None),
            (_("final score"), bundling.get("final_score")),
        ]
    grade = trace.pop("grade", None)
    if isinstance(grade, dict):
        summary += [(_("grade"), grade_words(grade.get("grade"))), (_("grade bands"), _bands(grade.get("bands", {})))]
    elif grade is not None:
        summary.append((_("grade"), grade_words(grade)))
    if "averaging" in trace:
        summary.append((_("alliance averaging"), _label(Rubric.AllianceAveraging, trace.pop("averaging"))))
    if summary:
        parts.append(_table(_("Score"), _rows(summary)))
    award = trace.pop("award", None)
    if isinstance(award, dict):
        policy = award.get("policy") or {}
        coefficients = policy.get("coefficients") or {}
        parts.append(
            _table(
                _("Award"),
                _rows(
                    [
                        (_("policy"), _label(AwardPolicy.Kind, policy.get("kind"))),
                        (
                            _("coefficients per grade"),
                            ", ".join(f"{grade_words(g)} × {c}" for g, c in coefficients.items()) or None,
                        ),
                        (_("pass threshold"), policy.get("pass_threshold")),
                        (_("pool"), award.get("pool")),
                        (_("quota"), award.get("quota")),
                        (_("share of the quota for the pool"), award.get("share")),
                        (_("eligible"), award.get("eligible")),
                        (_("weight"), award.get("weight")),
                        (_("exact amount"), award.get("exact_amount")),
                        (_("rounding adjustment"), award.get("rounding_adjustment")),
                        (_("award"), award.get("award")),
                        (_("left in the pool"), award.get("pool_remainder")),
                    ]
                ),
            )
        )
    rest = [(k, v) for k, v in trace.items() if k != "format"]
    if rest:
        parts.append(_table(_("Other figures"), _rows(rest)))
    return format_html_join("", "{}", ((p,) for p in parts))
