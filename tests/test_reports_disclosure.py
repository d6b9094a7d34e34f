"""Disclosure control: property tests against an independent, exact check of recoverability.

Random small warehouses (schools in regions, statuses of respondents, plan → status tables) are
generated with the sum relations they really satisfy; after control, (1) no published cell has a
base under the threshold and (2) no suppressed count can be recovered: Gaussian elimination in
exact fractions over those relations (written here, not taken from reports.disclosure) finds no
suppressed count that the published cells determine.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.disclosure import (
    control_indicators,
    control_transitions,
    protect_microdata,
    recoverable_indicators,
    recoverable_transitions,
)

THRESHOLD = 5
STATUSES = ("work", "work_and_study", "self_employed", "further_studies", "volunteering", "unemployed")
EMPLOYED = ("work", "work_and_study", "self_employed")
PLANS = ("work", "further_studies", "undecided")


def determined(relations: list[dict[Any, int]], unknown: set[Any]) -> set[Any]:
    """Unknowns fixed by the relations (knowns moved to the right-hand side), in exact arithmetic.

    Reduced row echelon form of the relations restricted to the unknowns: ``x`` is determined
    iff some reduced row has ``x`` as its only non-zero entry.
    """
    columns = sorted(unknown, key=repr)
    rows = []
    for rel in relations:
        row = {v: Fraction(c) for v, c in rel.items() if v in unknown and c}
        if row:
            rows.append(row)
    pivots: list[tuple[Any, dict[Any, Fraction]]] = []
    for col in columns:
        pivot_row = next((r for r in rows if r.get(col)), None)
        if pivot_row is None:
            continue
        rows.remove(pivot_row)
        scale = pivot_row[col]
        pivot_row = {v: c / scale for v, c in pivot_row.items()}
        for other in [*rows, *(p for _c, p in pivots)]:
            factor = other.get(col)
            if factor:
                for v, c in pivot_row.items():
                    other[v] = other.get(v, Fraction(0)) - factor * c
                    if other[v] == 0:
                        del other[v]
        pivots.append((col, pivot_row))
    return {col for col, row in pivots if set(row) == {col}}


# --------------------------------------------------------------------------- indicators

school_strategy = st.fixed_dictionaries(
    {
        "region": st.sampled_from(["R1", "R2", "R3"]),
        "nonrespondents": st.integers(0, 6),
        "status": st.lists(st.integers(0, 9), min_size=len(STATUSES), max_size=len(STATUSES)),
    }
)


def indicator_rows(schools: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict]:
    """Rows of marts.indicators for one cohort/wave: per school, per region and in total."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for i, s in enumerate(schools):
        groups[("school", f"S{i}")].append(s)
        groups[("region", s["region"])].append(s)
        groups[("total", "all")].append(s)
    rows = []
    for (bd, bv), members in groups.items():
        status = {st_: sum(m["status"][k] for m in members) for k, st_ in enumerate(STATUSES)}
        resp = sum(status.values())
        grads = resp + sum(m["nonrespondents"] for m in members)

        def row(
            ind: str, num: float, den: float | None, value: float | None, bd: str = bd, bv: str = bv
        ) -> dict[str, Any]:
            return {
                "cohort": 2019,
                "wave": "m6",
                "indicator": ind,
                "source": "survey",
                "breakdown": bd,
                "breakdown_value": bv,
                "numerator": num,
                "denominator": den,
                "value": value,
                "ci_low": None,
                "ci_high": None,
                "suppressed": False,
            }

        rows.append(row("graduates", grads, None, grads))
        rows.append(row("response_rate", resp, grads, resp / grads if grads else None))
        for s, n in status.items():
            rows.append(row(f"status_{s}", n, resp, n / resp if resp else None))
        emp = sum(status[s] for s in EMPLOYED)
        rows.append(row("employed_share", emp, resp, emp / resp if resp else None))
    hierarchy = {("school", f"S{i}", 2019): [("region", s["region"])] for i, s in enumerate(schools)}
    return rows, hierarchy


def relations_for(rows: list[dict[str, Any]], schools: list[dict[str, Any]]) -> list[dict[Any, int]]:
    rels: list[dict[Any, int]] = []
    indicators = sorted({r["indicator"] for r in rows})
    present = {(r["indicator"], r["breakdown"], r["breakdown_value"]) for r in rows}

    def v(ind: str, bd: str, bv: str, kind: str) -> tuple:
        return ((ind, bd, bv), kind)

    regions = sorted({s["region"] for s in schools})
    for ind in indicators:
        for kind in ("N", "D"):
            rels.append(
                {
                    **{v(ind, "school", f"S{i}", kind): 1 for i in range(len(schools))},
                    v(ind, "total", "all", kind): -1,
                }
            )
            rels.append({**{v(ind, "region", r, kind): 1 for r in regions}, v(ind, "total", "all", kind): -1})
            for r in regions:
                rels.append(
                    {
                        **{
                            v(ind, "school", f"S{i}", kind): 1
                            for i, s in enumerate(schools)
                            if s["region"] == r
                        },
                        v(ind, "region", r, kind): -1,
                    }
                )
    groups = {(r["breakdown"], r["breakdown_value"]) for r in rows}
    for bd, bv in groups:
        rels.append({v("graduates", bd, bv, "N"): 1, v("graduates", bd, bv, "D"): -1})
        rels.append({v("response_rate", bd, bv, "D"): 1, v("graduates", bd, bv, "D"): -1})
        rels.append({v("response_rate", bd, bv, "N"): 1, v("status_work", bd, bv, "D"): -1})
        family = [f"status_{s}" for s in STATUSES] + ["employed_share"]
        for ind in family[1:]:
            rels.append({v(ind, bd, bv, "D"): 1, v("status_work", bd, bv, "D"): -1})
        rels.append(
            {**{v(f"status_{s}", bd, bv, "N"): 1 for s in STATUSES}, v("status_work", bd, bv, "D"): -1}
        )
        rels.append(
            {**{v(f"status_{s}", bd, bv, "N"): 1 for s in EMPLOYED}, v("employed_share", bd, bv, "N"): -1}
        )
    assert all(k[0] in present for rel in rels for k in rel)
    return rels


def unknowns_and_targets(published: list[dict[str, Any]]) -> tuple[set, set]:
    unknown, targets = set(), set()
    for r in published:
        k = (r["indicator"], r["breakdown"], r["breakdown_value"])
        if r["suppressed"]:  # an empty base shows "–" too: unknown, but nothing to protect
            unknown |= {(k, "N"), (k, "D")}
        if r["suppressed"] and r["suppression"] != "empty":
            targets.add((k, "N"))
            if r["suppression"] == "primary" or r["indicator"] == "graduates":
                targets.add((k, "D"))
    return unknown, targets


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(school_strategy, min_size=2, max_size=6))
def test_no_small_base_published_and_nothing_recoverable(schools: list[dict[str, Any]]) -> None:
    rows, hierarchy = indicator_rows(schools)
    published = control_indicators(rows, THRESHOLD, hierarchy)
    by_key = {(r["indicator"], r["breakdown"], r["breakdown_value"]): r for r in rows}
    for r in published:
        original = by_key[(r["indicator"], r["breakdown"], r["breakdown_value"])]
        base = original["numerator"] if r["indicator"] == "graduates" else original["denominator"]
        if not r["suppressed"]:
            assert base >= THRESHOLD, r  # no published cell under the threshold
        else:
            assert all(r[m] is None for m in ("value", "numerator", "denominator", "ci_low", "ci_high"))
        if 0 < base < THRESHOLD:
            assert r["suppressed"] and r["suppression"] == "primary"
    unknown, targets = unknowns_and_targets(published)
    assert not determined(relations_for(rows, schools), unknown) & targets
    assert recoverable_indicators(published, hierarchy) == []


def test_single_suppressed_school_gets_a_complement() -> None:
    schools = [
        {"region": "R1", "nonrespondents": 1, "status": [1, 0, 0, 1, 0, 0]},  # 3 graduates
        {"region": "R1", "nonrespondents": 5, "status": [20, 3, 1, 9, 1, 6]},
        {"region": "R2", "nonrespondents": 9, "status": [30, 5, 2, 12, 0, 9]},
        {"region": "R2", "nonrespondents": 4, "status": [11, 2, 0, 6, 1, 3]},
    ]
    rows, hierarchy = indicator_rows(schools)
    published = control_indicators(rows, THRESHOLD, hierarchy)
    hidden = {(r["indicator"], r["breakdown_value"]) for r in published if r["suppressed"]}
    assert ("graduates", "S0") in hidden and ("graduates", "S1") in hidden  # S1: its region's other school
    assert ("graduates", "S2") not in hidden and ("graduates", "all") not in hidden
    assert {r["suppression"] for r in published if r["breakdown_value"] == "S1" and r["suppressed"]} == {
        "secondary"
    }


def test_empty_base_needs_no_complement() -> None:
    schools = [
        {"region": "R1", "nonrespondents": 0, "status": [0, 0, 0, 0, 0, 0]},
        {"region": "R1", "nonrespondents": 5, "status": [20, 3, 1, 9, 1, 6]},
        {"region": "R2", "nonrespondents": 9, "status": [30, 5, 2, 12, 0, 9]},
    ]
    rows, hierarchy = indicator_rows(schools)
    published = control_indicators(rows, THRESHOLD, hierarchy)
    assert {r["suppression"] for r in published if r["breakdown_value"] == "S0"} == {"empty"}
    assert not any(r["suppressed"] for r in published if r["breakdown_value"] != "S0")


# --------------------------------------------------------------------------- transitions

cells_strategy = st.lists(
    st.lists(st.integers(0, 9), min_size=len(PLANS) * 3, max_size=len(PLANS) * 3), min_size=2, max_size=4
)
TRANSITION_STATUSES = ("work", "further_studies", "unemployed")


def transition_rows(schools: list[list[int]]) -> list[dict[str, Any]]:
    rows = []
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for i, counts in enumerate(schools):
        for k, (plan, status) in enumerate((p, s) for p in PLANS for s in TRANSITION_STATUSES):
            totals[(plan, status)] += counts[k]
            if counts[k]:
                rows.append(_transition(("school", f"S{i}"), plan, status, counts[k]))
    rows += [_transition(("total", "all"), p, s, n) for (p, s), n in totals.items() if n]
    return rows


def _transition(group: tuple[str, str], plan: str, status: str, n: int) -> dict[str, Any]:
    return {
        "cohort": 2019,
        "wave": "m6",
        "breakdown": group[0],
        "breakdown_value": group[1],
        "plan_after_graduation": plan,
        "current_status": status,
        "graduates": n,
    }


@settings(max_examples=60, deadline=None)
@given(cells_strategy)
def test_transitions_small_cells_and_complements(schools: list[list[int]]) -> None:
    rows = transition_rows(schools)
    published = control_transitions(rows, THRESHOLD)
    plan_totals: dict[tuple, int] = defaultdict(int)
    for r in rows:
        plan_totals[(r["breakdown_value"], r["plan_after_graduation"])] += r["graduates"]
    for r in published:
        if not r["suppressed"]:
            assert r["graduates"] >= THRESHOLD
        else:
            assert r["graduates"] is None
        if r["plan_total"] is not None:
            assert r["plan_total"] >= THRESHOLD
    # independent check: cells of a plan add up to its total; schools add up to the total
    rels: list[dict[Any, int]] = []
    groups = sorted({r["breakdown_value"] for r in rows})
    for g in groups:
        for p in PLANS:
            rels.append({**{(g, p, s): 1 for s in TRANSITION_STATUSES}, (g, p, "T"): -1})
    for p in PLANS:
        for s in [*TRANSITION_STATUSES, "T"]:
            rels.append({**{(g, p, s): 1 for g in groups if g != "all"}, ("all", p, s): -1})
    shown_total = {
        (r["breakdown_value"], r["plan_after_graduation"]) for r in published if r["plan_total"] is not None
    }
    unknown = {
        (r["breakdown_value"], r["plan_after_graduation"], r["current_status"])
        for r in published
        if r["suppressed"]
    }
    # plans with rows whose total is not shown; cells and plans absent from the table are zeros
    with_rows = {(r["breakdown_value"], r["plan_after_graduation"]) for r in rows}
    unknown |= {(g, p, "T") for g, p in with_rows if (g, p) not in shown_total}
    assert not determined(rels, unknown) & unknown
    assert recoverable_transitions(published) == []


# --------------------------------------------------------------------------- microdata

record = st.fixed_dictionaries(
    {
        "family": st.sampled_from(["a", "b", "c"]),
        "qualification": st.sampled_from(["q1", "q2", "q3", "q4"]),
        "sex": st.sampled_from(["F", "M", "X"]),
    }
)


@settings(max_examples=80, deadline=None)
@given(st.lists(record, min_size=0, max_size=40))
def test_microdata_quasi_identifiers_are_k_anonymous(records: list[dict[str, Any]]) -> None:
    quasi = ("family", "qualification", "sex")
    out = protect_microdata(records, quasi, THRESHOLD)
    counts: dict[tuple, int] = defaultdict(int)
    for r in out:
        counts[tuple(r[q] for q in quasi)] += 1
    for combo, n in counts.items():
        assert n >= THRESHOLD or combo == (None, None, None)
    assert len(out) == len(records)
