"""A school result's trace: what the nightly job stores, and how it is shown.

Stored (``"format": 2``), per school, only the school's own figures::

    {"format": 2,
     "rubric": {"id": …, "version": …, "hash": …},
     "indicators": {code: [source, raw value or null, points], …},
     "own_total": "…", "bundling": {…}, "grade": "good",
     "award": {"policy": {…}, "pool": "…", "quota": "…", "share": "…", "pool_remainder": "…",
               "eligible": …, "weight": "…", "exact_amount": "…", "award": "…",
               "rounding_adjustment": "…"}}

``explain`` joins it with the snapshot of the rubric's content (``RubricSnapshot``, one row
per content hash) into the trace that the admin, the API, the principal's page and the award
sheet show: every indicator in the rubric's order with its dimension, name, method, metric,
rule, parameters, direction and max points, and the grade with its bands. ``rubric.snapshot``
says whether the snapshot still hashes to the hash the result records ("verified"), does not
("mismatch": the stored text was altered) or is missing. A trace written
before format 2 already carries all of that and is shown as stored.

Storing the rubric's text once instead of in each of a county's 200 traces makes a trace
about 1.7 KB instead of 8 KB, which is most of what the nightly job used to write.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

TRACE_FORMAT = 2


_SNAPSHOTS: dict[str, dict[str, Any]] = {}


def snapshot_content(content_hash: str) -> dict[str, Any] | None:
    """The rubric content stored under a hash. A hash names its content for good, so what was
    found is kept for the process's life (a miss is asked again next time)."""
    from .models import RubricSnapshot

    if content_hash not in _SNAPSHOTS:
        row = RubricSnapshot.objects.filter(content_hash=content_hash).values_list("content", flat=True).first()
        if row is None:
            return None
        if len(_SNAPSHOTS) >= 1024:
            _SNAPSHOTS.clear()
        _SNAPSHOTS[content_hash] = row
    return _SNAPSHOTS[content_hash]


def _content_hash(content: dict[str, Any]) -> str:
    """``compute.rubric_hash`` of stored content (the same canonical JSON)."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def explain(trace: dict[str, Any], content_hash: str) -> dict[str, Any]:
    """The trace as shown: the school's figures with the rubric's words around them."""
    if not trace or trace.get("format") != TRACE_FORMAT:
        return trace
    content = snapshot_content(content_hash)
    # Whether the rubric's words shown are the ones the result was computed with: the snapshot's
    # content must still hash to the hash the result records.
    if content is None:
        check, content = "missing", {"dimensions": [], "grade_bands": {}}
    else:
        check = "verified" if _content_hash(content) == content_hash else "mismatch"
    figures = trace.get("indicators", {})
    indicators = []
    seen = set()
    for dimension in content["dimensions"]:
        for ind in dimension["indicators"]:
            code = ind["code"]
            if code not in figures:
                continue
            seen.add(code)
            source, raw_value, points = figures[code]
            indicators.append(
                {
                    "dimension": dimension["name"],
                    "code": code,
                    "name": ind["name"],
                    "method": ind["method"],
                    "metric": ind["metric_key"] or None,
                    "source": source,
                    "raw_value": raw_value,
                    "rule": ind["rule"],
                    "rule_params": ind["rule_params"],
                    "direction": ind["direction"],
                    "max_points": ind["max_points"],
                    "points": points,
                }
            )
    for code, (source, raw_value, points) in figures.items():  # only if the snapshot is missing
        if code not in seen:
            indicators.append({"code": code, "name": code, "source": source, "raw_value": raw_value, "points": points})
    shown = {k: v for k, v in trace.items() if k != "format"}
    shown["rubric"] = {**trace.get("rubric", {}), "snapshot": check}
    shown["indicators"] = indicators
    shown["grade"] = {"grade": trace.get("grade"), "bands": content.get("grade_bands", {})}
    return shown
