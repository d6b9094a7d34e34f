"""Disclosure control on hand-made tables: rounding, threshold, marks, and differencing.

The policy (reports/disclosure.py, docs/disclosure.md): counts rounded to the nearest multiple of
the rounding base (0-2 shown as 0); a figure whose unrounded base is under the threshold is not
shown; a figure whose base is at least the threshold always is; shares on unrounded data.
Property tests draw random rows and check each rule against numbers computed here by hand; the
differencing tests play an attacker who combines two published versions of one table.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.disclosure import (
    DEFAULT_POLICY,
    Policy,
    control_indicators,
    control_transitions,
    protect_microdata,
)

T, R = DEFAULT_POLICY.threshold, DEFAULT_POLICY.rounding_base
STATUSES_T = ("work", "further_studies", "volunteering", "unemployed")
PLANS_T = ("work", "further_studies", "undecided")


def row(indicator: str, numerator: float | None, denominator: float | None, **kw: Any) -> dict[str, Any]:
    value = kw.pop("value", None)
    if value is None and numerator is not None and denominator:
        value = numerator / denominator
    out = {
        "cohort": 2019,
        "wave": "m6",
        "indicator": indicator,
        "source": "survey",
        "breakdown": "school",
        "breakdown_value": "S1",
        "numerator": numerator,
        "denominator": denominator,
        "value": value,
        "ci_low": None,
        "ci_high": None,
        "suppressed": False,
    }
    out.update(kw)
    return out


def by_key(rows: Iterable[Mapping[str, Any]]) -> dict[tuple, dict[str, Any]]:
    return {(r["indicator"], r["source"], r["breakdown_value"]): dict(r) for r in rows}


def wilson(k: float, n: float) -> tuple[float, float]:
    p, z = k / n, 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


# --------------------------------------------------------------------------- rounding


def test_rounding_by_hand() -> None:
    """HESA's rule: 0, 1, 2 → 0; 3-7 → 5; 8-12 → 10; halves up."""
    policy = Policy()
    assert [policy.rounded(n) for n in (0, 1, 2, 3, 7, 8, 12, 13, 22, 23)] == [
        0,
        0,
        0,
        5,
        5,
        10,
        10,
        15,
        20,
        25,
    ]
    assert Policy(rounding_base=10).rounded(15) == 20
    assert Policy(rounding_base=1).rounded(7) == 7
    with pytest.raises(ValueError, match="positive"):
        Policy(threshold=0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 400)), min_size=1, max_size=25))
def test_counts_are_rounded_shares_are_not(pairs: list[tuple[int, int]]) -> None:
    rows = []
    for i, (a, b) in enumerate(pairs):
        num, den = min(a, b), max(a, b)
        lo, hi = wilson(num, den) if den else (None, None)
        rows.append(row("employed_share", num, den, breakdown_value=f"S{i}", ci_low=lo, ci_high=hi))
        rows.append(row("graduates", den, None, value=den, breakdown_value=f"S{i}"))
    out = by_key(control_indicators(rows))
    for i, (a, b) in enumerate(pairs):
        num, den = min(a, b), max(a, b)
        share, count = out[("employed_share", "survey", f"S{i}")], out[("graduates", "survey", f"S{i}")]
        if den >= T:
            # shown: counts are multiples of R within R/2 of the truth; the share is the exact one
            assert not share["suppressed"] and not count["suppressed"]
            for published, true in (
                (share["numerator"], num),
                (share["denominator"], den),
                (count["value"], den),
            ):
                assert published % R == 0 and abs(published - true) <= R / 2
            assert share["value"] == pytest.approx(num / den)
            assert share["base"] % R == 0 and abs(share["base"] - den) <= R / 2
        else:
            # hidden: every measure NULL, the right mark
            for r in (share, count):
                assert r["suppressed"]
                assert all(
                    r[m] is None for m in ("value", "numerator", "denominator", "ci_low", "ci_high", "base")
                )
                assert r["mark"] == ("no_data" if den == 0 else "small_base")


# --------------------------------------------------------------------------- threshold and marks


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5000),
    st.integers(0, 100),
    st.integers(1, 60),
    st.integers(1, 200),
)
def test_threshold_and_marks_follow_the_settings(den: int, pct: int, threshold: int, lp_base: int) -> None:
    policy = Policy(threshold=threshold, rounding_base=5, low_precision_base=lp_base, low_precision_width=0.3)
    num = den * pct // 100
    lo, hi = wilson(num, den)
    [out] = control_indicators([row("status_work", num, den, ci_low=lo, ci_high=hi)], policy)
    if den < threshold:
        assert out["suppressed"] and out["mark"] == "small_base" and out["value"] is None
    else:  # a figure whose base is at least the threshold is never hidden
        assert not out["suppressed"] and out["value"] == pytest.approx(num / den)
        low_precision = den < lp_base or hi - lo > 0.3
        assert out["mark"] == ("low_precision" if low_precision else None)


def test_marks_by_hand() -> None:
    rows = [
        row("response_rate", 18, 36, breakdown_value="A"),  # 36 ≥ 20: shown, low precision (< 50)
        row("response_rate", 80, 199, breakdown_value="B", ci_low=0.33, ci_high=0.47),  # shown, no mark
        row("response_rate", 3, 19, breakdown_value="C"),  # 19 < 20: not shown
        row("admin_part_time_share", None, 0, breakdown_value="D"),  # nobody: no data
        row("median_minutes_to_complete", None, 44, value=None, breakdown_value="E"),  # nothing to show
        row("status_work", 30, 44, breakdown_value="F", suppressed=True),  # the warehouse flags it
        row("graduates", 4, None, value=4, breakdown_value="X"),  # sex X = 4
        row("graduates", 0, None, value=0, breakdown_value="Z"),  # a school without graduates
    ]
    out = by_key(control_indicators(rows))
    marks = {k[2]: (v["mark"], v["suppressed"]) for k, v in out.items()}
    assert marks == {
        "A": ("low_precision", False),
        "B": (None, False),
        "C": ("small_base", True),
        "D": ("no_data", True),
        "E": ("no_data", True),
        "F": ("small_base", True),
        "X": ("small_base", True),
        "Z": ("no_data", True),
    }
    a = out[("response_rate", "survey", "A")]
    assert (a["numerator"], a["denominator"], a["base"], a["value"]) == (20, 35, 35, 0.5)


def test_bases_of_weighted_rows_gaps_and_months() -> None:
    """The base is the people, not a sum of weights or of months; the gap's is its smaller group."""
    rows = [
        row("employed_share", 10, 18),  # 18 respondents: under 20
        row("employed_share", 40.4, 71.9, source="survey_weighted"),  # weights sum to 71.9
        row("employed_share", 30, 60, breakdown_value="S2"),
        row("employed_share", 33.3, 58.2, source="survey_weighted", breakdown_value="S2"),
        row("survey_admin_employment_agreement", 20, 25, source="combined"),  # 25 respondents
        row("nonresponse_gap_employment", None, 40, value=0.1, source="admin"),  # 15 non-respondents
        row("survey_admin_employment_agreement", 40, 50, source="combined", breakdown_value="S2"),
        row("nonresponse_gap_employment", None, 80, value=0.1, source="admin", breakdown_value="S2"),
        row("eqavet5b_employment_rate", 12, 19, source="admin"),  # 19 graduates with records
        row("admin_share_of_months_employed", 200, 342, source="admin"),  # 19 × 18 months
    ]
    out = by_key(control_indicators(rows))
    assert out[("employed_share", "survey_weighted", "S1")]["mark"] == "small_base"
    weighted = out[("employed_share", "survey_weighted", "S2")]
    assert not weighted["suppressed"] and weighted["base"] == 60 and weighted["denominator"] == 60
    assert out[("nonresponse_gap_employment", "admin", "S1")]["mark"] == "small_base"
    assert out[("nonresponse_gap_employment", "admin", "S2")]["base"] == 30
    assert out[("admin_share_of_months_employed", "admin", "S1")]["mark"] == "small_base"


def test_asturias_bases_are_shown() -> None:
    """The seeds' published bases (36, 44, 80, 199) clear the threshold: none is hidden."""
    rows = [row("response_rate", n // 2, n, breakdown_value=str(n)) for n in (36, 44, 80, 199)]
    assert not any(r["suppressed"] for r in control_indicators(rows))


def test_transitions_by_hand() -> None:
    cells = {
        ("S1", "work", "work"): 15,
        ("S1", "work", "unemployed"): 2,  # shown as 0: its plan has 22 graduates
        ("S1", "work", "volunteering"): 5,
        ("S1", "undecided", "volunteering"): 1,  # plan of 4: nothing shown
        ("S1", "undecided", "unemployed"): 3,
        ("S1", "idle", "work"): 0,  # empty plan: no data
    }
    out = {
        (r["breakdown_value"], r["plan_after_graduation"], r["current_status"]): r
        for r in control_transitions(transition_rows(cells))
    }
    assert [(out[k]["graduates"], out[k]["plan_total"], out[k]["mark"]) for k in cells] == [
        (15, 20, "low_precision"),  # a plan of 22: shown, under 50 so with a caution
        (0, 20, "low_precision"),
        (5, 20, "low_precision"),
        (None, None, "small_base"),
        (None, None, "small_base"),
        (None, None, "no_data"),
    ]


def test_publication_is_per_cell_and_order_free() -> None:
    """A row's publication depends on its own data only: changing, adding or shuffling other
    rows never changes it (so re-publishing one cohort cannot change another's cells)."""
    rng = random.Random(3)
    rows = [
        row("status_work", rng.randint(0, n), n, breakdown_value=f"S{i}", cohort=2019 + i % 2)
        for i, n in enumerate(rng.randint(0, 120) for _ in range(60))
    ]
    first = {tuple(r[k] for k in ("cohort", "breakdown_value")): r for r in control_indicators(rows)}
    changed = [dict(r) for r in rows if r["cohort"] == 2019]
    for r in changed:
        r["denominator"] = (r["denominator"] or 0) + 7
    again = control_indicators([*reversed([r for r in rows if r["cohort"] == 2020]), *changed])
    for r in again:
        if r["cohort"] == 2020:
            assert r == first[(r["cohort"], r["breakdown_value"])]


# --------------------------------------------------------------------------- differencing

Key = tuple[str, str, str]


def transition_rows(cells: Mapping[Key, int], cohort: int = 2019) -> list[dict[str, Any]]:
    return [
        {
            "cohort": cohort,
            "wave": "m6",
            "breakdown": "total" if g == "all" else "school",
            "breakdown_value": g,
            "plan_after_graduation": p,
            "current_status": s,
            "graduates": n,
        }
        for (g, p, s), n in cells.items()
    ]


def _interval(published: float | None, rounding: int) -> tuple[float, float]:
    """The integers a published count can stand for (rounding to the nearest multiple)."""
    if published is None:
        return (0.0, math.inf)
    return (max(0.0, math.ceil(published - rounding / 2)), math.ceil(published + rounding / 2) - 1.0)


def isolated_transition_cells(
    published_a: Iterable[Mapping[str, Any]],
    published_b: Iterable[Mapping[str, Any]],
    changed: set[Key],
    true_a: Mapping[Key, int],
    true_b: Mapping[Key, int],
    rounding: int,
    threshold: int,
) -> list[tuple[str, Key, int]]:
    """Hidden small cells an attacker pins down exactly from two published versions.

    The attacker knows which cells the re-publication may have changed (``changed``, e.g. one
    graduate's status corrected) and that every other cell is the same in both versions, so a
    cell hidden in one version and shown in the other is known in both. Plan cells add up to the
    plan total and schools add up to ``all``; intervals are narrowed through these sums until
    nothing moves. A hidden cell of 1 to threshold − 1 with a single possible value is isolated.
    """
    versions = {"a": list(published_a), "b": list(published_b)}
    known: dict[str, dict[tuple, tuple[float, float]]] = {}
    for name, rows in versions.items():
        iv: dict[tuple, tuple[float, float]] = {}
        for r in rows:
            g, p = r["breakdown_value"], r["plan_after_graduation"]
            iv[(g, p, r["current_status"])] = _interval(r["graduates"], rounding)
            total = _interval(r["plan_total"], rounding)
            old = iv.get((g, p, "T"), (0.0, math.inf))
            iv[(g, p, "T")] = (max(old[0], total[0]), min(old[1], total[1]))
        known[name] = iv
    hits = []
    for name, other, true in (("a", "b", true_a), ("b", "a", true_b)):
        iv = dict(known[name])
        totals_changed = {(g, p, "T") for g, p, _ in changed}
        for k, (lo, hi) in known[other].items():
            if k not in changed and k not in totals_changed and k in iv:
                iv[k] = (max(iv[k][0], lo), min(iv[k][1], hi))
        relations: list[tuple[list[tuple], tuple]] = []
        plans: dict[tuple, list[tuple]] = defaultdict(list)
        across: dict[tuple, list[tuple]] = defaultdict(list)
        for g, p, s in [k for k in iv if k[2] != "T"]:
            plans[(g, p)].append((g, p, s))
            if g != "all":
                across[(p, s)].append((g, p, s))
        relations += [(members, (g, p, "T")) for (g, p), members in plans.items()]
        relations += [(members, ("all", p, s)) for (p, s), members in across.items() if ("all", p, s) in iv]
        for _ in range(50):
            moved = False
            for members, total in relations:
                lo_sum = sum(iv[m][0] for m in members)
                hi_sum = sum(iv[m][1] for m in members)
                t_lo, t_hi = max(iv[total][0], lo_sum), min(iv[total][1], hi_sum)
                if (t_lo, t_hi) != iv[total]:
                    iv[total], moved = (t_lo, t_hi), True
                for m in members:
                    lo = max(iv[m][0], t_lo - (hi_sum - iv[m][1]))
                    hi = min(iv[m][1], t_hi - (lo_sum - iv[m][0]))
                    if (lo, hi) != iv[m]:
                        iv[m], moved = (lo, hi), True
            if not moved:
                break
        hidden = {
            (r["breakdown_value"], r["plan_after_graduation"], r["current_status"])
            for r in versions[name]
            if r["graduates"] is None
        }
        for k in sorted(hidden):
            lo, hi = iv[k]
            if lo == hi and 0 < true[k] < threshold:
                hits.append((name, k, true[k]))
    return hits


#: The re-publication case of issue 9, found by searching random two-school tables with the
#: previous rules (cascading suppression, threshold 5, exact counts; the search is described in
#: docs/disclosure.md): one graduate of S1 corrected from "work → work" to "work → volunteering".
#: The old rules hid different complements in the two versions, and together they gave away the
#: hidden "work → volunteering" cell of all schools (2 graduates) in the first version.
REPUBLISHED_CASE: dict[Key, int] = {
    ("S1", "work", "work"): 1,
    ("S1", "work", "further_studies"): 0,
    ("S1", "work", "volunteering"): 2,
    ("S1", "work", "unemployed"): 0,
    ("S1", "further_studies", "work"): 8,
    ("S1", "further_studies", "further_studies"): 8,
    ("S1", "further_studies", "volunteering"): 8,
    ("S1", "further_studies", "unemployed"): 5,
    ("S1", "undecided", "work"): 1,
    ("S1", "undecided", "further_studies"): 0,
    ("S1", "undecided", "volunteering"): 8,
    ("S1", "undecided", "unemployed"): 0,
    ("S2", "work", "work"): 5,
    ("S2", "work", "further_studies"): 5,
    ("S2", "work", "volunteering"): 0,
    ("S2", "work", "unemployed"): 8,
    ("S2", "further_studies", "work"): 2,
    ("S2", "further_studies", "further_studies"): 1,
    ("S2", "further_studies", "volunteering"): 0,
    ("S2", "further_studies", "unemployed"): 3,
    ("S2", "undecided", "work"): 0,
    ("S2", "undecided", "further_studies"): 0,
    ("S2", "undecided", "volunteering"): 0,
    ("S2", "undecided", "unemployed"): 12,
}
MOVED = (("S1", "work", "work"), ("S1", "work", "volunteering"))


def with_totals(cells: Mapping[Key, int]) -> dict[Key, int]:
    out = dict(cells)
    for (g, p, s), n in cells.items():
        if g != "all":
            out[("all", p, s)] = out.get(("all", p, s), 0) + n
    return out


def republish(cells: Mapping[Key, int], moved_from: Key, moved_to: Key) -> tuple[dict, dict, set[Key]]:
    """Version a, version b (one graduate moved between two cells of a school), and the cells
    that changed (those two and their ``all`` cells)."""
    a = with_totals(cells)
    b_cells = dict(cells)
    b_cells[moved_from] -= 1
    b_cells[moved_to] += 1
    b = with_totals(b_cells)
    changed = {moved_from, moved_to, ("all", *moved_from[1:]), ("all", *moved_to[1:])}
    return a, b, changed


def test_republishing_with_one_graduate_changed_isolates_no_one() -> None:
    a, b, changed = republish(REPUBLISHED_CASE, *MOVED)
    published_a = control_transitions(transition_rows(a))
    published_b = control_transitions(transition_rows(b))
    assert isolated_transition_cells(published_a, published_b, changed, a, b, R, T) == []
    # ... and every cell the change did not touch is published identically in both versions
    cells_b = {
        (r["breakdown_value"], r["plan_after_graduation"], r["current_status"]): r for r in published_b
    }
    for r in published_a:
        k = (r["breakdown_value"], r["plan_after_graduation"], r["current_status"])
        if k not in changed and (k[0], k[1]) not in {(c[0], c[1]) for c in changed}:
            assert r == cells_b[k]


def test_the_attacker_finds_what_exact_counts_give_away() -> None:
    """The attack is not toothless: published exactly (rounding base 1), the same two versions
    isolate small cells even with the threshold applied."""
    a, b, changed = republish(REPUBLISHED_CASE, *MOVED)
    exact = Policy(threshold=5, rounding_base=1)
    published_a = control_transitions(transition_rows(a), exact)
    published_b = control_transitions(transition_rows(b), exact)
    assert isolated_transition_cells(published_a, published_b, changed, a, b, 1, 5)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([0, 0, 1, 1, 2, 3, 5, 8, 12, 20, 31]), min_size=16, max_size=16), st.data())
def test_no_republication_isolates_a_small_cell(counts: list[int], data: st.DataObject) -> None:
    keys = [(g, p, s) for g in ("S1", "S2") for p in ("work", "undecided") for s in STATUSES_T]
    cells = dict(zip(keys, counts, strict=True))
    source = data.draw(st.sampled_from([k for k in keys if cells[k] > 0] or keys[:1]))
    if cells[source] == 0:
        cells[source] = 1
    target = data.draw(st.sampled_from([k for k in keys if k[:2] == source[:2] and k != source]))
    a, b, changed = republish(cells, source, target)
    published_a = control_transitions(transition_rows(a))
    published_b = control_transitions(transition_rows(b))
    assert isolated_transition_cells(published_a, published_b, changed, a, b, R, T) == []


def test_breakdown_differencing_within_a_page_gives_no_small_group() -> None:
    """Total minus women minus men is sex X = 4 only within the rounding error: all three are
    rounded, so the difference leaves 0 to 10 possible (4 itself is not shown: under 20)."""
    rows = [
        row("graduates", 2000, None, value=2000, breakdown="total", breakdown_value="all"),
        row("graduates", 1011, None, value=1011, breakdown="sex", breakdown_value="F"),
        row("graduates", 985, None, value=985, breakdown="sex", breakdown_value="M"),
        row("graduates", 4, None, value=4, breakdown="sex", breakdown_value="X"),
    ]
    out = {r["breakdown_value"]: r for r in control_indicators(rows)}
    assert out["X"]["value"] is None and out["X"]["mark"] == "small_base"
    lo = [_interval(out[g]["value"], R)[0] for g in ("all", "F", "M")]
    hi = [_interval(out[g]["value"], R)[1] for g in ("all", "F", "M")]
    x_lo, x_hi = max(0.0, lo[0] - hi[1] - hi[2]), hi[0] - lo[1] - lo[2]
    assert x_lo < 4 < x_hi and x_hi - x_lo >= 2 * R


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
    out = protect_microdata(records, quasi, 5)
    counts: dict[tuple, int] = defaultdict(int)
    for r in out:
        counts[tuple(r[q] for q in quasi)] += 1
    for combo, n in counts.items():
        assert n >= 5 or combo == (None, None, None)
    assert len(out) == len(records)
