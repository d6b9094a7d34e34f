"""Disclosure control, in one place: what may be published from the warehouse, and how.

Reports never read the warehouse directly. :func:`publish` copies the aggregate tables that pages
may use into a separate *published* DuckDB file, after applying the rules below, and the engine
opens only that file (read-only, no file or network access). Exports of microdata go through
:func:`protect_microdata`. So a number that reaches a page or an export has passed these rules,
whatever a page's SQL says.

Rules (documented for users in ``reports/README.md``):

1. **Primary suppression.** An indicator row whose base (``denominator``; for counts such as
   ``graduates`` the count itself) is below the threshold (default 5) is suppressed, as is every
   row the warehouse already flags ``suppressed``. A plan → status transition cell counting 1 to
   threshold − 1 graduates is suppressed, and so is every cell of a plan with fewer graduates in
   total than the threshold.
2. **Secondary suppression.** Within a set of cells that add up to a published total — the values
   of one breakdown against the ``total`` row (and schools against their region and country,
   qualifications against their family and sector…), the ``status_*`` shares of one group
   (which sum to 1 and to ``employed_share``, ``studying_share``, EQAVET 5a/5b), the
   ``job_found_via_*`` and ``study_level_*`` shares, the cells of one plan against its total —
   when exactly one cell is suppressed the next smallest is suppressed too.
3. **Audit.** The published cells and all those sum relations form a linear system; a
   suppressed count (numerator, and the base of a row suppressed for a small base) that it
   determines exactly is *recoverable*. More cells are suppressed, smallest first, until none
   is: rule 2 alone misses chains (e.g. a suppressed school cell recovered through the
   response-rate numerators, which equal the status bases). The check is exact (integer
   elimination, no tolerance) and incremental: a round that hides a few cells only revisits
   the relations that hold them (:class:`_Audit`).
4. **Masking.** Suppressed rows keep their keys and ``suppressed = true``; every measure
   (value, numerator, denominator, interval) is NULL in the published file, so not even a page
   that forgets to check the flag can show one.
5. **Counts.** Published counts (bases, graduates, transition cells) are shown as they are when
   they are at or above the threshold (no rounding: rounding on top of suppression adds little
   protection at these sizes and makes numbers disagree with their shares); below it they are
   not shown ("–", "n < 5"). Zero transition cells are shown (structural zeros).

No free text and no personal data reach the published file: only the whitelisted aggregate
tables and, of the register, the school names and regions.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

__all__ = [
    "DEFAULT_THRESHOLD",
    "PUBLISHED_BREAKDOWNS",
    "Hierarchy",
    "control_indicators",
    "control_transitions",
    "hierarchy_from_register",
    "protect_microdata",
    "publish",
    "recoverable_indicators",
    "recoverable_transitions",
]

DEFAULT_THRESHOLD = 5
KEY = ("cohort", "wave", "indicator", "source", "breakdown", "breakdown_value")
MEASURES = ("value", "numerator", "denominator", "ci_low", "ci_high")
#: Breakdowns copied to the published file; ``qualification`` is left out by default (dozens of
#: small groups, none of which a report shows), which keeps the audit small.
PUBLISHED_BREAKDOWNS: tuple[str, ...] = (
    "total",
    "country",
    "region",
    "school",
    "sector_group",
    "professional_family",
    "eqf_level",
    "sex",
)
#: Breakdowns of the plan → status table copied to the published file: the reports draw the flows
#: of a school and of all schools; finer tables would only add small cells to hide.
PUBLISHED_TRANSITION_BREAKDOWNS: tuple[str, ...] = ("total", "school")
#: Register column behind each breakdown (as the marts group them).
BREAKDOWN_COLUMNS: dict[str, str] = {
    "school": "school_code",
    "country": "country",
    "region": "region",
    "sector_group": "sector_group",
    "professional_family": "professional_family",
    "qualification": "qualification_code",
    "eqf_level": "eqf_level",
    "sex": "sex",
}
STATUSES = (
    "work",
    "work_and_study",
    "self_employed",
    "further_studies",
    "volunteering",
    "unemployed",
    "inactive",
)
EMPLOYED = ("work", "work_and_study", "self_employed")
PLACED = (*EMPLOYED, "further_studies", "volunteering")
STUDYING = ("further_studies", "work_and_study")
#: Same-base families whose shares sum to 1 (single-choice items).
SINGLE_CHOICE_PREFIXES = ("status_", "job_found_via_", "study_level_")

Var = tuple[int, str]  # (row index, "N" numerator | "D" denominator)
#: ``{(breakdown, value, cohort): [(parent breakdown, parent value), ...]}``
Hierarchy = Mapping[tuple[str, str, Any], Sequence[tuple[str, str]]]


# --------------------------------------------------------------------------- helpers


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def is_count_indicator(indicator: str) -> bool:
    """Counts (``graduates``) carry the count in value/numerator; their base is the count."""
    return indicator == "graduates" or indicator.endswith("_count")


def is_additive(indicator: str) -> bool:
    """Medians and differences do not add up across groups; every other indicator does."""
    return "median" not in indicator and "gap" not in indicator and not indicator.endswith("_difference")


def base_of(row: Mapping[str, Any]) -> float | None:
    """The base the threshold applies to: the denominator, or the count for count indicators."""
    if is_count_indicator(str(row.get("indicator"))):
        for column in ("numerator", "value", "denominator"):
            number = _num(row.get(column))
            if number is not None:
                return number
        return None
    return _num(row.get("denominator"))


def numerator_of(row: Mapping[str, Any]) -> float | None:
    """The count a published row reveals: its numerator, or value × base."""
    if is_count_indicator(str(row.get("indicator"))):
        return base_of(row)
    number = _num(row.get("numerator"))
    if number is None:
        value, den = _num(row.get("value")), _num(row.get("denominator"))
        if value is not None and den is not None:
            number = value * den
    return number


# --------------------------------------------------------------------------- linear audit


@dataclass
class _System:
    """Sum relations between counts; finds the unknown counts they determine exactly."""

    relations: list[dict[Hashable, float]] = field(default_factory=list)
    # For choosing what to suppress next: per relation, its kind and its "total" variable.
    kinds: list[str] = field(default_factory=list)
    totals: list[Hashable | None] = field(default_factory=list)

    def add(self, terms: Mapping[Hashable, float], kind: str, total: Hashable | None = None) -> None:
        clean = {v: c for v, c in terms.items() if c}
        if len(clean) >= 2:
            self.relations.append(clean)
            self.kinds.append(kind)
            self.totals.append(total)

    def by_var(self) -> dict[Hashable, list[int]]:
        index: dict[Hashable, list[int]] = defaultdict(list)
        for i, rel in enumerate(self.relations):
            for v in rel:
                index[v].append(i)
        return index

    def determined(self, unknown: Iterable[Hashable]) -> set[Hashable]:
        """Unknown variables whose value the relations fix, given every other variable."""
        audit = _Audit(self.relations)
        audit.add(sorted(unknown, key=repr))  # any order gives the same answer; this one, the same work
        return set(audit.determined)


def _integer_row(relation: Mapping[Hashable, float]) -> dict[Hashable, int]:
    """A relation scaled to integer coefficients, so that the audit is exact (no tolerance)."""
    if all(float(c).is_integer() for c in relation.values()):
        return {v: int(c) for v, c in relation.items() if c}
    exact = {v: Fraction(c) for v, c in relation.items() if c}
    scale = math.lcm(*(f.denominator for f in exact.values()))
    return {v: int(f * scale) for v, f in exact.items()}


class _Audit:
    """Which unknown counts the relations determine, kept up to date as counts are hidden.

    ``x`` is determined iff the unit vector ``e_x`` lies in the row space of the relations
    restricted to the unknowns. The rows are kept, in exact integers, in reduced echelon form
    with respect to the unknowns (known variables stay in the rows as columns): each *pivot*
    row holds one pivot unknown, which no other row holds, and maybe *free* unknowns; every
    other row holds no unknown. So ``x`` is determined iff it is a pivot whose row holds no
    free unknown.

    Hiding more only adds unknowns, and adding ``v`` touches only the rows holding ``v``, i.e.
    its connected part of the system: if a row without unknowns holds ``v``, ``v`` becomes
    its pivot (determined) and is eliminated from the other rows holding it, which gain only
    known variables; otherwise ``v`` is free and the pivots of the rows holding it are no
    longer determined. The fix loop hides a few cells a round, so a round costs what those
    cells touch, not a solve of the whole system (which made large sites take many minutes).
    """

    def __init__(self, relations: Iterable[Mapping[Hashable, float]]) -> None:
        self.rows: dict[int, dict[Hashable, int]] = {}
        self.cols: dict[Hashable, set[int]] = defaultdict(set)
        for i, relation in enumerate(relations):
            row = _integer_row(relation)
            if row:
                self.rows[i] = row
                for v in row:
                    self.cols[v].add(i)
        self.pivot: dict[int, Hashable] = {}  # pivot row -> its pivot unknown
        self.unknown: set[Hashable] = set()
        self.determined: set[Hashable] = set()

    def add(self, variables: Iterable[Hashable]) -> None:
        """Make ``variables`` unknown (hidden); already unknown ones are left as they are."""
        rows, pivot = self.rows, self.pivot
        for v in variables:
            if v in self.unknown:
                continue
            self.unknown.add(v)
            holders = self.cols.get(v)
            if not holders:
                continue  # in no relation: nothing fixes it
            best: tuple[tuple[bool, int, int], int] | None = None
            for j in holders:
                if j not in pivot:
                    key = (abs(rows[j][v]) != 1, len(rows[j]), j)  # a short row with a unit: little fill
                    if best is None or key < best[0]:
                        best = (key, j)
            if best is None:  # free: the pivots of its rows are determined no more, ever
                for j in holders:
                    self.determined.discard(pivot[j])
            else:
                self._pivot(best[1], v)

    def _pivot(self, p: int, v: Hashable) -> None:
        """Make ``v`` the pivot of row ``p`` and remove it from every other row, exactly."""
        prow, cols, rows = self.rows[p], self.cols, self.rows
        a = prow[v]
        for j in [j for j in cols[v] if j != p]:
            row = rows[j]
            b = row[v]
            if a in (1, -1):
                sa, sb = 1, b * a
            else:  # row := sa·row − sb·prow stays integral and still cancels v
                g = math.gcd(a, b)
                sa, sb = abs(a) // g, (b // g) * (1 if a > 0 else -1)
                for u in row:
                    row[u] *= sa
            for u, c in prow.items():
                value = row.get(u, 0) - sb * c
                if value:
                    if u not in row:
                        cols[u].add(j)
                    row[u] = value
                elif u in row:
                    del row[u]
                    cols[u].discard(j)
            if not row:
                del rows[j]  # a relation that only repeated others
            elif sa != 1 or abs(sb) != 1:
                content = math.gcd(*row.values())
                if content > 1:
                    for u in row:
                        row[u] //= content
        self.pivot[p] = v
        self.determined.add(v)


def _candidates(
    system: _System,
    index: Mapping[Hashable, list[int]],
    members: Sequence[Sequence[tuple[Hashable, int | None, bool]]],
    suppressed: list[bool],
    var: Hashable,
    depth: int = 2,
    reach: int | None = None,
) -> tuple[set[tuple[int, str, bool, int]], set[Hashable], set[int]]:
    """Published rows near ``var`` through the relations, breadth-first: (row, relation kind,
    is the relation's total, distance), at least ``depth`` levels and further until one is
    found; the hidden variables passed on the way, ``reach`` levels deep (default one more);
    and the relations read (the answer holds until a row in one of them is suppressed).

    ``members[ri]`` lists relation ``ri``'s variables as (variable, its row, is the total).
    The rows found do not depend on ``reach``: ``reach=depth`` finds them with less work.
    """
    seen_vars, seen_rels = {var}, set()
    frontier: list[Hashable] = [var]
    found: set[tuple[int, str, bool, int]] = set()  # a row often turns up through several relations
    distance = 0
    reach = depth + 1 if reach is None else reach
    kinds = system.kinds
    while frontier and (distance < reach or not found):
        distance += 1
        nxt = []
        for v in frontier:
            for ri in index.get(v, ()):
                if ri in seen_rels:
                    continue
                seen_rels.add(ri)
                for other, row_i, is_total in members[ri]:
                    if row_i is not None and not suppressed[row_i]:
                        if distance <= depth or not found:
                            found.add((row_i, kinds[ri], is_total, distance))
                    elif other not in seen_vars:
                        seen_vars.add(other)
                        nxt.append(other)
        frontier = nxt
    return found, seen_vars, seen_rels


def _fix_loop(
    system: _System,
    rows: list[dict[str, Any]],
    suppressed: list[bool],
    known: dict[Var, bool],
    targets: set[Var],
    score: Any,
) -> None:
    """Suppress more rows until no target (a suppressed count) is determined (rule 3).

    ``known[var]`` says whether a variable is published. Each determined target picks the
    published row nearby that ``score(row, target_row, relation_kind, is_total, distance)``
    ranks lowest; every determined target is fixed in the same round.

    Rounds are incremental, as many hide a single row: the audit only eliminates what a round
    hid; a target's best fix is searched again only when a row of a relation the search read
    was suppressed since; the hidden counts a fix covers are collected only for fixes chosen.
    """
    index = system.by_var()
    var_rows: dict[Hashable, int] = {}
    for rel in system.relations:
        for v in rel:
            if isinstance(v, tuple) and isinstance(v[0], int):
                var_rows[v] = v[0]
    members = [
        [(v, var_rows.get(v), v == total) for v in rel]
        for rel, total in zip(system.relations, system.totals, strict=True)
    ]
    rels_of_row: dict[int, list[int]] = defaultdict(list)
    for ri, entries in enumerate(members):
        for _v, row_i, _t in entries:
            if row_i is not None:
                rels_of_row[row_i].append(ri)
    audit = _Audit(system.relations)
    audit.add(sorted((v for v, k in known.items() if not k), key=repr))  # same work every run
    best_of: dict[Hashable, tuple[tuple, int] | None] = {}  # target -> (score, row) of its best fix
    readers: dict[int, set[Hashable]] = defaultdict(set)  # relation -> targets whose search read it
    for _round in range(10_000):
        hit = audit.determined & targets
        if not hit:
            return
        # Best-placed fixes first; a fix also covers the hidden counts it was searched through
        # (fixing them too would hide more than needed), which are looked at again next round.
        plans = []
        for var in hit:
            if var not in best_of:  # the rows found; the level beyond only collects hidden counts
                found, _seen, read = _candidates(system, index, members, suppressed, var, depth=2, reach=2)
                var_row = var_rows.get(var, -1)
                best_of[var] = min(((score(c[0], var_row, *c[1:]), c[0]) for c in found), default=None)
                for ri in read:
                    readers[ri].add(var)
            best = best_of[var]
            if best is None:
                targets.discard(var)  # fixed by structure alone (a zero): nothing to hide
                continue
            plans.append((best, repr(var), var))
        chosen: set[int] = set()
        handled: set[Hashable] = set()
        # With few recoverable counts, only the best class of fix this round (e.g. hiding the
        # rest of a group already partly hidden): it often covers the others without touching
        # more groups. With many, all at once: fewer rounds, a little more suppression.
        best_class = min(p[0][0][:3] for p in plans) if 0 < len(plans) <= 50 else None
        for best, _name, var in sorted(plans, key=lambda p: (p[0], p[1])):
            if var in handled or (best_class is not None and best[0][:3] != best_class):
                continue
            chosen.add(best[1])
            handled |= _candidates(system, index, members, suppressed, var)[1]
        hidden: list[Hashable] = []
        for row_i in sorted(chosen):
            suppressed[row_i] = True
            rows[row_i]["suppression"] = rows[row_i].get("suppression") or "secondary"
            for kind in ("N", "D"):
                if (row_i, kind) in known:
                    known[(row_i, kind)] = False
                    hidden.append((row_i, kind))
            targets.add((row_i, "N"))
            for ri in rels_of_row.get(row_i, ()):
                for var in readers.pop(ri, ()):
                    best_of.pop(var, None)
        audit.add(hidden)
    raise RuntimeError("disclosure control did not converge")  # pragma: no cover


# --------------------------------------------------------------------------- indicators


def hierarchy_from_register(records: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str, Any], list]:
    """Which breakdown values nest in which (school in region and country, family in sector…).

    ``records`` are distinct register combinations with the breakdown columns and ``cohort``.
    A value nests in a parent value when all its graduates of the cohort share that parent:
    then the parent's cells are sums of its children's, a relation the audit must know.
    """
    by_cohort: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
    for r in records:
        by_cohort[r.get("cohort")].append(r)
    out: dict[tuple[str, str, Any], list[tuple[str, str]]] = defaultdict(list)

    def value(r: Mapping[str, Any], col: str) -> str:
        v = r.get(col)
        return "unknown" if v is None and col == "region" else str(v)

    for cohort, recs in by_cohort.items():
        for child, ccol in BREAKDOWN_COLUMNS.items():
            for parent, pcol in BREAKDOWN_COLUMNS.items():
                if child == parent:
                    continue
                parents: dict[str, set[str]] = defaultdict(set)
                children: dict[str, set[str]] = defaultdict(set)
                for r in recs:
                    parents[value(r, ccol)].add(value(r, pcol))
                    children[value(r, pcol)].add(value(r, ccol))
                for pval, cvals in children.items():
                    # the children add up to the parent only if all of them lie inside it
                    if all(len(parents[c]) == 1 for c in cvals):
                        for c in cvals:
                            out[(child, c, cohort)].append((parent, pval))
    return dict(out)


def _indicator_system(
    rows: list[dict[str, Any]], hierarchy: Hierarchy | None
) -> tuple[_System, dict[Var, bool], set[Var], list[int]]:
    """The sum relations between the counts of ``marts.indicators`` rows (see module doc)."""
    system = _System()
    index: dict[tuple, int] = {}
    for i, r in enumerate(rows):
        index[tuple(r.get(k) for k in KEY)] = i
    additive = [is_additive(str(r.get("indicator"))) for r in rows]

    def var(i: int, kind: str) -> Var:
        return (i, kind)

    # A: breakdown values against the total row; B: children against their parent value.
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        if additive[i] and r.get("breakdown") != "total":
            groups[(r["cohort"], r["wave"], r["indicator"], r["source"], r["breakdown"])].append(i)
    for (cohort, wave, ind, src, _bd), members in groups.items():
        total = index.get((cohort, wave, ind, src, "total", "all"))
        if total is None:
            continue
        for kind in ("N", "D"):
            terms = {var(m, kind): 1.0 for m in members}
            terms[var(total, kind)] = -1.0
            system.add(terms, "breakdown", var(total, kind))
    if hierarchy:
        children: dict[tuple, list[int]] = defaultdict(list)
        for i, r in enumerate(rows):
            if not additive[i] or r.get("breakdown") == "total":
                continue
            for pbd, pval in hierarchy.get((r["breakdown"], str(r["breakdown_value"]), r["cohort"]), ()):
                parent = index.get((r["cohort"], r["wave"], r["indicator"], r["source"], pbd, pval))
                if parent is not None:
                    children[(parent, r["breakdown"])].append(i)
        for (parent, _bd), members in children.items():
            for kind in ("N", "D"):
                terms = {var(m, kind): 1.0 for m in members}
                terms[var(parent, kind)] = terms.get(var(parent, kind), 0.0) - 1.0
                system.add(terms, "breakdown", var(parent, kind))

    # C: relations inside one group (cohort, wave, source, breakdown, value).
    cells: dict[tuple, dict[str, int]] = defaultdict(dict)
    register: dict[tuple, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        group = (r["cohort"], r["wave"], r["source"], r["breakdown"], r["breakdown_value"])
        cells[group][str(r["indicator"])] = i
        ind = str(r["indicator"])
        if ind in ("graduates", "share_women") or (ind == "response_rate" and r["source"] == "survey"):
            register[(r["cohort"], r["breakdown"], r["breakdown_value"])].append(i)
        if ind == "eqavet5a_placement_rate" and r["source"] == "combined":
            register[(r["cohort"], r["breakdown"], r["breakdown_value"])].append(i)
        if is_count_indicator(ind):
            system.add({var(i, "N"): 1.0, var(i, "D"): -1.0}, "same")
    for members in register.values():  # one register base for every wave and source
        for m in members[1:]:
            system.add({var(members[0], "D"): 1.0, var(m, "D"): -1.0}, "same")
    for (cohort, wave, source, bd, bval), inds in cells.items():
        # single-choice families: shares sum to 1, one base
        for prefix in SINGLE_CHOICE_PREFIXES:
            fam = [i for name, i in inds.items() if name.startswith(prefix)]
            if prefix == "status_":
                fam = [inds[f"status_{s}"] for s in STATUSES if f"status_{s}" in inds]
            if not fam:
                continue
            for m in fam[1:]:
                system.add({var(fam[0], "D"): 1.0, var(m, "D"): -1.0}, "same")
            complete = prefix != "status_" or len(fam) == len(STATUSES)
            if complete or prefix == "status_":
                terms = {var(m, "N"): 1.0 for m in fam}
                terms[var(fam[0], "D")] = terms.get(var(fam[0], "D"), 0.0) - 1.0
                system.add(terms, "family", var(fam[0], "D"))
        status = {s: inds[f"status_{s}"] for s in STATUSES if f"status_{s}" in inds}
        if status:
            first = next(iter(status.values()))
            derived = {"employed_share": EMPLOYED, "studying_share": STUDYING}
            if source in ("survey", "survey_weighted"):
                derived |= {"eqavet5b_employment_rate": EMPLOYED, "eqavet5a_placement_rate": PLACED}
            for name, parts in derived.items():
                if name not in inds:
                    continue
                d = inds[name]
                system.add({var(d, "D"): 1.0, var(first, "D"): -1.0}, "same")
                terms = {var(status[p], "N"): 1.0 for p in parts if p in status}
                terms[var(d, "N")] = -1.0
                system.add(terms, "family", var(d, "N"))
            if source == "survey":  # respondents: the response-rate numerator is the status base
                rr = cells.get((cohort, wave, "survey", bd, bval), {}).get("response_rate")
                if rr is not None:
                    system.add({var(rr, "N"): 1.0, var(first, "D"): -1.0}, "same")
                linked = inds.get("linked_across_waves_rate")
                if linked is not None:
                    system.add({var(linked, "D"): 1.0, var(first, "D"): -1.0}, "same")
        if "eqavet6a_skills_utilisation" in inds and "job_related_to_qualification" in inds:
            a, b = inds["eqavet6a_skills_utilisation"], inds["job_related_to_qualification"]
            for kind in ("N", "D"):
                system.add({var(a, kind): 1.0, var(b, kind): -1.0}, "same")
        if bd == "total" and source in ("survey", "survey_weighted") and "share_women" in inds:
            women = cells.get((cohort, wave, source, "sex", "F"), {}).get("graduates")
            if women is not None:
                system.add({var(inds["share_women"], "N"): 1.0, var(women, "D"): -1.0}, "same")

    known: dict[Var, bool] = {}
    used = {v for rel in system.relations for v in rel}
    for v in used:
        known[v] = True
    return system, known, set(), [i for i, a in enumerate(additive) if a]


def _indicator_known(rows: list[dict[str, Any]], suppressed: list[bool], known: dict[Var, bool]) -> None:
    for i, kind in list(known):
        if suppressed[i]:  # empty rows too: they show "–" like any other suppressed row
            known[(i, kind)] = False
        else:
            value = base_of(rows[i]) if kind == "D" else numerator_of(rows[i])
            known[(i, kind)] = value is not None


def _indicator_targets(rows: list[dict[str, Any]], suppressed: list[bool], primary: list[bool]) -> set[Var]:
    """What must stay hidden: every suppressed numerator; the base of a small-base row."""
    targets: set[Var] = set()
    for i, r in enumerate(rows):
        if suppressed[i] and r.get("suppression") != "empty":
            targets.add((i, "N"))
            if primary[i] or is_count_indicator(str(r.get("indicator"))):
                targets.add((i, "D"))
    return targets


def _sets_pass(
    system: _System,
    rows: list[dict[str, Any]],
    suppressed: list[bool],
    size: Any,
) -> None:
    """Rule 2: in each additive set with a published total, never leave exactly one hidden.

    A set is a relation "members add up to a total"; its total is published when the row that
    carries it is (for a family of shares, when any member is: they share the base).
    """
    # Smallest sets first: a school hidden inside its region is best complemented by another
    # school of that region, which then also covers the set of all schools.
    order = sorted(range(len(system.relations)), key=lambda i: len(system.relations[i]))
    changed = True
    while changed:
        changed = False
        for i in order:
            rel, kind, total = system.relations[i], system.kinds[i], system.totals[i]
            if kind not in ("breakdown", "family", "plan") or total is None:
                continue
            members = sorted({v[0] for v in rel if v != total})
            if kind == "family":
                total_known = any(not suppressed[m] for m in members)
            else:
                total_known = not suppressed[total[0]]
            if not total_known:
                continue
            hidden = [m for m in members if suppressed[m] and rows[m].get("suppression") != "empty"]
            shown = [m for m in members if not suppressed[m]]
            if len(hidden) != 1 or not shown:
                continue
            pick = min(shown, key=lambda m: (size(m), m))
            suppressed[pick] = True
            rows[pick]["suppression"] = rows[pick].get("suppression") or "secondary"
            changed = True


def control_indicators(
    rows: Sequence[Mapping[str, Any]],
    threshold: int = DEFAULT_THRESHOLD,
    hierarchy: Hierarchy | None = None,
) -> list[dict[str, Any]]:
    """Apply rules 1-4 to ``marts.indicators`` rows; returns new rows with ``suppressed`` set,
    ``suppression`` (``primary``/``secondary``/None) and measures NULL where suppressed."""
    out = [dict(r) for r in rows]
    primary = []
    for r in out:
        base = base_of(r)
        small = base is not None and base < threshold
        flagged = bool(r.get("suppressed")) or small
        primary.append(flagged)
        # An empty base (0) hides no one: shown as not available, and it needs no complement.
        r["suppression"] = ("empty" if base == 0 else "primary") if flagged else None
    suppressed = list(primary)
    system, known, _targets, _additive = _indicator_system(out, hierarchy)

    def size(i: int) -> tuple[float, str]:
        return (base_of(out[i]) or 0.0, str(out[i].get("breakdown_value")))

    _sets_pass(system, out, suppressed, size)
    _indicator_known(out, suppressed, known)
    targets = _indicator_targets(out, suppressed, primary)

    group_keys = ("cohort", "breakdown", "breakdown_value")
    # What the ranking reads of a row, once: it is asked millions of times on a large sample.
    facts = [
        (
            r.get("breakdown") == "total",
            tuple(r.get(k) for k in group_keys),
            base_of(r) or 0.0,
            str(r.get("breakdown_value")),
        )
        for r in out
    ]
    no_group = (None,) * len(group_keys)
    kind_order = {"breakdown": 0, "family": 1, "same": 2}

    def score(i: int, var_i: int, kind: str, is_total: bool, distance: int) -> tuple:
        """Never a total while anything else will do; then cells of the same group as the
        recovered one (hiding its family of shares, as rule 2 does); then the nearest and
        smallest."""
        total_row, group, base, value = facts[i]
        same_group = group == (facts[var_i][1] if var_i >= 0 else no_group)
        return (total_row, is_total, not same_group, distance, kind_order.get(kind, 3), base, value)

    _fix_loop(system, out, suppressed, known, targets, score)
    for r, hidden in zip(out, suppressed, strict=True):
        r["suppressed"] = hidden
        if hidden:
            for m in MEASURES:
                if m in r:
                    r[m] = None
    return out


def recoverable_indicators(
    rows: Sequence[Mapping[str, Any]], hierarchy: Hierarchy | None = None
) -> list[tuple[tuple, str]]:
    """Suppressed counts that the published rows determine exactly (empty after control).

    ``rows`` are published rows: suppressed ones carry no measures, and ``suppression`` says
    whether a row was hidden for its own small base (``primary``: its base is protected too) or
    as a complement (``secondary``); without that column every suppressed row counts as primary.
    """
    work = [dict(r) for r in rows]
    suppressed = [bool(r.get("suppressed")) for r in work]
    primary = [bool(r.get("suppressed")) and r.get("suppression", "primary") != "secondary" for r in work]
    system, known, _t, _a = _indicator_system(work, hierarchy)
    _indicator_known(work, suppressed, known)
    targets = _indicator_targets(work, suppressed, primary)
    unknown = {v for v, k in known.items() if not k}
    hits = system.determined(unknown) & targets
    return sorted(((tuple(work[i].get(k) for k in KEY), kind) for i, kind in hits), key=repr)


# --------------------------------------------------------------------------- transitions

TRANSITION_KEY = ("cohort", "wave", "breakdown", "breakdown_value")


def _transition_system(
    rows: list[dict[str, Any]], hierarchy: Hierarchy | None, totals: dict[tuple, int]
) -> _System:
    """Cells of a plan sum to the plan's total; cells and totals add up across breakdown values.

    ``totals`` maps (group…, plan) to a pseudo row index (negative) standing for the plan total.
    """
    system = _System()
    by_plan: dict[tuple, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_plan[(*(r[k] for k in TRANSITION_KEY), r["plan_after_graduation"])].append(i)
    for plan_key, members in by_plan.items():
        t = totals[plan_key]
        terms: dict[Hashable, float] = {(m, "N"): 1.0 for m in members}
        terms[(t, "N")] = -1.0
        system.add(terms, "plan", (t, "N"))
    # across breakdown values: per cell and per plan total
    cell_index = {
        (*(r[k] for k in TRANSITION_KEY), r["plan_after_graduation"], r["current_status"]): i
        for i, r in enumerate(rows)
    }

    def add_sums(keyed: Mapping[tuple, int], key_len: int) -> None:
        groups: dict[tuple, list[int]] = defaultdict(list)
        for key, i in keyed.items():
            cohort, wave, bd, _bv, *rest = key
            if bd != "total":
                groups[(cohort, wave, bd, *rest)].append(i)
        for (cohort, wave, _bd, *rest), members in groups.items():
            total = keyed.get((cohort, wave, "total", "all", *rest))
            if total is None:
                continue
            terms: dict[Hashable, float] = {(m, "N"): 1.0 for m in members}
            terms[(total, "N")] = -1.0
            system.add(terms, "breakdown", (total, "N"))
        if not hierarchy:
            return
        kids: dict[tuple, list[int]] = defaultdict(list)
        for key, i in keyed.items():
            cohort, wave, bd, bv, *rest = key
            if bd == "total":
                continue
            for pbd, pval in hierarchy.get((bd, str(bv), cohort), ()):
                parent = keyed.get((cohort, wave, pbd, pval, *rest))
                if parent is not None:
                    kids[(parent, bd)].append(i)
        for (parent, _bd), members in kids.items():
            terms = {(m, "N"): 1.0 for m in members}
            terms[(parent, "N")] = -1.0
            system.add(terms, "breakdown", (parent, "N"))

    add_sums(cell_index, 6)
    add_sums(totals, 5)
    return system


def _transition_totals(rows: list[dict[str, Any]]) -> tuple[dict[tuple, int], dict[int, float]]:
    totals: dict[tuple, int] = {}
    sums: dict[int, float] = defaultdict(float)
    for r in rows:
        key = (*(r[k] for k in TRANSITION_KEY), r["plan_after_graduation"])
        t = totals.setdefault(key, -(len(totals) + 1))
        sums[t] += _num(r.get("graduates")) or 0.0
    return totals, sums


def control_transitions(
    rows: Sequence[Mapping[str, Any]],
    threshold: int = DEFAULT_THRESHOLD,
    hierarchy: Hierarchy | None = None,
) -> list[dict[str, Any]]:
    """Apply rules 1-4 to ``marts.plan_status_transitions``; adds ``plan_total`` and
    ``suppressed`` columns (``graduates`` and ``plan_total`` NULL where not publishable)."""
    out = [dict(r) for r in rows]
    totals, sums = _transition_totals(out)
    small_plan = {t for t, s in sums.items() if 0 < s < threshold}  # an empty plan hides no one
    suppressed = []
    primary = []
    for r in out:
        count = _num(r.get("graduates")) or 0.0
        t = totals[(*(r[k] for k in TRANSITION_KEY), r["plan_after_graduation"])]
        hidden = bool(r.get("suppressed")) or (0 < count < threshold) or t in small_plan
        suppressed.append(hidden)
        primary.append(hidden)
        r["suppression"] = "primary" if hidden else None
    system = _transition_system(out, hierarchy, totals)
    # plan totals behave like rows: index them after the cells
    n = len(out)
    total_rows = {t: n + k for k, t in enumerate(sorted(sums, reverse=True))}
    ext_suppressed = suppressed + [t in small_plan for t in sorted(sums, reverse=True)]
    remap: dict[Hashable, Hashable] = {(t, "N"): (total_rows[t], "N") for t in sums}
    system.relations = [{remap.get(v, v): c for v, c in rel.items()} for rel in system.relations]
    system.totals = [remap.get(t, t) if t is not None else None for t in system.totals]
    ext_rows = out + [{"graduates": sums[t], "suppression": None} for t in sorted(sums, reverse=True)]

    def size(i: int) -> tuple[float, int]:
        return (_num(ext_rows[i].get("graduates")) or 0.0, i)

    _sets_pass(system, ext_rows, ext_suppressed, size)
    known = {v: not ext_suppressed[v[0]] for rel in system.relations for v in rel}
    targets = {(i, "N") for i, h in enumerate(ext_suppressed) if h}

    def score(i: int, var_i: int, kind: str, is_total: bool, distance: int) -> tuple:
        """Plan totals and the ``total`` group last; then the nearest and smallest cell."""
        grand = i < n and out[i].get("breakdown") == "total"
        return (
            grand,
            is_total or i >= n,
            distance,
            kind != "plan",
            _num(ext_rows[i].get("graduates")) or 0.0,
        )

    _fix_loop(system, ext_rows, ext_suppressed, known, targets, score)
    for i, r in enumerate(out):
        t = totals[(*(r[k] for k in TRANSITION_KEY), r["plan_after_graduation"])]
        r["suppressed"] = ext_suppressed[i]
        if ext_suppressed[i]:
            r["graduates"] = None
            r["suppression"] = r.get("suppression") or "secondary"
        # The plan total is kept on every row of a publishable plan (the engine masks it on
        # suppressed rows when read; the flow takes it from any shown cell of the plan).
        r["plan_total"] = None if ext_suppressed[total_rows[t]] else sums[t]
    return out


def recoverable_transitions(
    rows: Sequence[Mapping[str, Any]], hierarchy: Hierarchy | None = None
) -> list[tuple[tuple, str]]:
    """Suppressed transition cells and hidden plan totals that published rows determine."""
    work = [dict(r) for r in rows]
    totals: dict[tuple, int] = {}
    published_total: set[int] = set()
    for r in work:
        key = (*(r[k] for k in TRANSITION_KEY), r["plan_after_graduation"])
        t = totals.setdefault(key, -(len(totals) + 1))
        if r.get("plan_total") is not None:
            published_total.add(t)
    system = _transition_system(work, hierarchy, totals)
    known: dict[Hashable, bool] = {}
    for rel in system.relations:
        for v in rel:
            i = v[0]
            known[v] = (i in published_total) if i < 0 else not work[i].get("suppressed")
    hits = system.determined({v for v, k in known.items() if not k})
    key_of = {t: k for k, t in totals.items()}
    out = []
    for i, kind in hits:
        if i >= 0:
            r = work[i]
            out.append(
                ((*(r[k] for k in TRANSITION_KEY), r["plan_after_graduation"], r["current_status"]), kind)
            )
        else:
            out.append(((*key_of[i], "plan_total"), kind))
    return sorted(out, key=repr)


# --------------------------------------------------------------------------- microdata


def protect_microdata(
    rows: Sequence[Mapping[str, Any]],
    quasi_identifiers: Sequence[str],
    threshold: int = DEFAULT_THRESHOLD,
) -> list[dict[str, Any]]:
    """Blank quasi-identifiers, last listed first, until each combination is shared by at least
    ``threshold`` records (local suppression towards k-anonymity, k = threshold).

    Records whose combination stays rarer once every quasi-identifier is blank keep all blank.
    """
    out = [dict(r) for r in rows]
    order = list(quasi_identifiers)
    for _ in range(len(order) + 1):
        counts: dict[tuple, int] = defaultdict(int)
        for r in out:
            counts[tuple(r.get(q) for q in order)] += 1
        rare = [r for r in out if counts[tuple(r.get(q) for q in order)] < threshold]
        if not rare:
            break
        for r in rare:
            for q in reversed(order):
                if r.get(q) is not None:
                    r[q] = None
                    break
    return out


# --------------------------------------------------------------------------- publish


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]  # type: ignore[index]
    )


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    cols = [d[0] for d in cursor.description or ()]
    return [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]


def register_relation(con: duckdb.DuckDBPyConnection) -> str | None:
    """The pseudonymised register to read group attributes from (never identifiers)."""
    for schema, table in (("staging", "stg_register__graduates"), ("raw", "register")):
        if _table_exists(con, schema, table):
            return f"{schema}.{table}"
    return None


def publish(
    source: str | Path | duckdb.DuckDBPyConnection,
    dest: str | Path,
    threshold: int = DEFAULT_THRESHOLD,
    breakdowns: Sequence[str] = PUBLISHED_BREAKDOWNS,
) -> Path:
    """Write the published file: controlled aggregates only (see the module doc).

    Tables: ``marts.indicators``, ``marts.plan_status_transitions`` (with ``plan_total``),
    ``marts.dim_school`` (code, name, country, region per cohort), ``context.indicators``
    (regional context figures such as youth unemployment) and ``published.meta``.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")  # concurrent builds never share it
    tmp.unlink(missing_ok=True)
    own = not isinstance(source, duckdb.DuckDBPyConnection)
    con = (
        duckdb.connect(str(source), read_only=True, config={"enable_external_access": False})
        if own
        else source
    )
    try:
        register = register_relation(con)
        hierarchy: dict = {}
        schools: list[dict[str, Any]] = []
        if register:
            combos = _fetch(
                con,
                f"select distinct cohort, school_code, country, region, sector_group, professional_family,"
                f" qualification_code, cast(eqf_level as varchar) as eqf_level, sex from {register}",
            )
            hierarchy = hierarchy_from_register(combos)
            schools = _fetch(
                con,
                f"""select cohort, school_code, min(school_name) as school_name, min(country) as country,
                           case when count(distinct coalesce(region, 'unknown')) = 1
                                then min(coalesce(region, 'unknown')) end as region
                    from {register} group by cohort, school_code order by cohort, school_code""",
            )
        elif _table_exists(con, "marts", "dim_school"):
            schools = _fetch(con, "select * from marts.dim_school")
        indicators: list[dict[str, Any]] = []
        ind_cols: list[str] = []
        if _table_exists(con, "marts", "indicators"):
            marks = ", ".join("?" for _ in breakdowns)
            cursor = con.execute(
                f"select * from marts.indicators where breakdown in ({marks}) "
                "order by cohort, wave, indicator, source, breakdown, breakdown_value",
                list(breakdowns),
            )
            ind_cols = [d[0] for d in cursor.description or ()]
            indicators = [dict(zip(ind_cols, r, strict=True)) for r in cursor.fetchall()]
        transitions: list[dict[str, Any]] = []
        if _table_exists(con, "marts", "plan_status_transitions"):
            flow_breakdowns = [b for b in breakdowns if b in PUBLISHED_TRANSITION_BREAKDOWNS]
            marks = ", ".join("?" for _ in flow_breakdowns) or "NULL"
            transitions = _fetch(
                con,
                "select cohort, wave, breakdown, breakdown_value, plan_after_graduation, current_status,"
                f" graduates from marts.plan_status_transitions where breakdown in ({marks})",
                flow_breakdowns,
            )
        context: list[dict[str, Any]] = []
        for schema, table in (("staging", "stg_context__indicators"), ("raw", "context_indicators")):
            if _table_exists(con, schema, table):
                context = _fetch(con, f"select region, year, indicator, value, source from {schema}.{table}")
                break
    finally:
        if own:
            con.close()

    controlled = control_indicators(indicators, threshold, hierarchy)
    flows = control_transitions(transitions, threshold, hierarchy)
    out = duckdb.connect(str(tmp))
    try:
        for schema in ("marts", "context", "published"):
            out.execute(f"create schema {schema}")
        keep = [c for c in ind_cols if c in (*KEY, *MEASURES, "suppressed")] or [
            *KEY,
            *MEASURES,
            "suppressed",
        ]
        _write(out, "marts.indicators", [*keep, "suppression"], controlled, _INDICATOR_TYPES)
        _write(
            out,
            "marts.plan_status_transitions",
            [
                *TRANSITION_KEY,
                "plan_after_graduation",
                "current_status",
                "graduates",
                "plan_total",
                "suppressed",
                "suppression",
            ],
            flows,
            _TRANSITION_TYPES,
        )
        _write(
            out,
            "marts.dim_school",
            ["cohort", "school_code", "school_name", "country", "region"],
            schools,
            {"cohort": "integer"},
        )
        _write(
            out,
            "context.indicators",
            ["region", "year", "indicator", "value", "source"],
            context,
            {"year": "integer", "value": "double"},
        )
        out.execute(
            "create table published.meta as select ?::integer as suppression_threshold, "
            "current_timestamp as published_at",
            [threshold],
        )
    finally:
        out.close()
    os.replace(tmp, dest)
    return dest


_INDICATOR_TYPES = {
    "cohort": "integer",
    "numerator": "double",
    "denominator": "double",
    "value": "double",
    "ci_low": "double",
    "ci_high": "double",
    "suppressed": "boolean",
}
_TRANSITION_TYPES = {
    "cohort": "integer",
    "graduates": "bigint",
    "plan_total": "bigint",
    "suppressed": "boolean",
}


_ARROW_TYPES = {
    "varchar": pa.string(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
}


def _write(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    types: Mapping[str, str],
) -> None:
    """Create ``table`` with explicit types and fill it in one Arrow batch (fast, typed)."""
    sql_types = {c: types.get(c, "varchar") for c in columns}
    con.execute(f"create table {table} ({', '.join(f'{c} {t}' for c, t in sql_types.items())})")
    if not rows:
        return
    arrays = {
        c: pa.array([_plain(r.get(c), t) for r in rows], type=_ARROW_TYPES[t]) for c, t in sql_types.items()
    }
    batch = pa.table(arrays)  # noqa: F841 - read by DuckDB's replacement scan below
    con.execute(f"insert into {table} select * from batch")


def _plain(value: Any, sql_type: str) -> Any:
    if value is None:
        return None
    if sql_type == "varchar":
        return str(value)
    if sql_type in ("bigint", "integer"):
        return round(float(value))
    if sql_type == "double":
        return float(value)
    return bool(value) if sql_type == "boolean" else value


def published_path_for(warehouse: Path, threshold: int) -> Path:
    """Where the engine caches the published copy of a warehouse (temp dir, per file state)."""
    stat = warehouse.stat()
    rules = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()  # new rules, new copy
    state = f"{warehouse.resolve()}|{stat.st_mtime_ns}|{stat.st_size}|{threshold}|{rules}"
    tag = hashlib.sha256(state.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "gradtrack-published" / f"{warehouse.stem}-{tag}.duckdb"
