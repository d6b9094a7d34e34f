"""The incremental audit behind rule 3, against from-scratch answers.

``reports.disclosure`` keeps the linear audit up to date as the fix loop hides cells, and reuses
a target's search for a fix until a row near it changes. These tests pin that down: after every
batch of newly hidden counts the audit must give what an exact elimination from scratch gives
(``determined`` of ``test_reports_disclosure``, in fractions), and the fix loop must hide exactly
the cells that the plain loop (everything recomputed every round) hides.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.disclosure import _Audit, _candidates, _fix_loop, _System
from tests.test_reports_disclosure import determined

# --------------------------------------------------------------------------- the audit alone

relation_strategy = st.dictionaries(
    st.integers(0, 14), st.sampled_from([1, 1, 1, -1, -1, -1, 2, -2, 3]), min_size=1, max_size=5
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(relation_strategy, min_size=1, max_size=14),
    st.lists(st.lists(st.integers(0, 15), max_size=5), min_size=1, max_size=8),
)
def test_incremental_audit_matches_elimination_from_scratch(
    relations: list[dict[int, int]], batches: list[list[int]]
) -> None:
    """Whatever the order in which counts are hidden (variable 15 is in no relation)."""
    audit = _Audit([{v: float(c) for v, c in rel.items()} for rel in relations])
    for batch in batches:
        audit.add(batch)
        assert audit.determined == determined(relations, set(audit.unknown))
        assert audit.determined <= audit.unknown


def two_tables() -> list[dict[Hashable, float]]:
    """Table 1: cells 0-3 add up to 4; table 2: cells 5-8 add up to 9; cell 3 also lies in
    table 2's relation 3 + 5 = 10 (a school in its region and in a second breakdown)."""
    return [
        {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0, 4: -1.0},
        {5: 1.0, 6: 1.0, 7: 1.0, 8: 1.0, 9: -1.0},
        {3: 1.0, 5: 1.0, 10: -1.0},
    ]


def test_audit_updates_only_what_a_change_reaches_and_follows_links() -> None:
    relations = two_tables()
    audit = _Audit(relations)
    audit.add([0])
    assert audit.determined == {0}  # the rest of table 1 is published
    audit.add([6, 7])  # table 2 alone: two hidden cells protect each other
    assert audit.determined == {0}
    audit.add([1])  # table 1 protected; table 2 untouched
    assert audit.determined == set()
    audit.add([3])  # 3 is fixed by 3 + 5 = 10 (another table): 0 and 1 are still a pair
    assert audit.determined == {3}
    audit.add([5])  # now 3 and 5 can move together, and with them table 2's cells
    assert audit.determined == set()
    assert audit.determined == determined(relations, set(audit.unknown))


# --------------------------------------------------------------------------- the fix loop


def plain_fix_loop(
    system: _System,
    rows: list[dict[str, Any]],
    suppressed: list[bool],
    known: dict[Any, bool],
    targets: set[Any],
    score: Any,
) -> None:
    """The fix loop without reuse: exact audit and every search from scratch each round."""
    index = system.by_var()
    var_rows = {v: v[0] for rel in system.relations for v in rel}
    members = [
        [(v, var_rows.get(v), v == total) for v in rel]
        for rel, total in zip(system.relations, system.totals, strict=True)
    ]
    for _round in range(1000):
        unknown = {v for v, k in known.items() if not k}
        hit = determined(system.relations, unknown) & targets  # type: ignore[arg-type]
        if not hit:
            return
        plans = []
        for var in hit:
            found, seen, _read = _candidates(system, index, members, suppressed, var)
            if not found:
                targets.discard(var)
                continue
            best = min((score(c[0], var_rows.get(var, -1), *c[1:]), c[0]) for c in found)
            plans.append((best, repr(var), var, seen))
        chosen: set[int] = set()
        handled: set[Hashable] = set()
        best_class = min(p[0][0][:3] for p in plans) if 0 < len(plans) <= 50 else None
        for best, _name, var, seen in sorted(plans, key=lambda p: (p[0], p[1])):
            if var in handled or (best_class is not None and best[0][:3] != best_class):
                continue
            chosen.add(best[1])
            handled |= seen
        for row_i in chosen:
            suppressed[row_i] = True
            rows[row_i]["suppression"] = rows[row_i].get("suppression") or "secondary"
            for kind in ("N", "D"):
                if (row_i, kind) in known:
                    known[(row_i, kind)] = False
            targets.add((row_i, "N"))
    raise AssertionError("no convergence")


def run_loop(
    loop: Any, relations: list[tuple[dict, str, Any]], sizes: list[int], hidden: set[int]
) -> tuple[list[bool], set]:
    """Rows ``0..len(sizes)-1`` with counts (row, "N") and bases (row, "D"); ``hidden`` rows
    are suppressed to start with. Returns the final suppression and the targets left."""
    system = _System()
    for terms, kind, total in relations:
        system.add(terms, kind, total)
    rows: list[dict[str, Any]] = [
        {"size": s, "suppression": "primary" if i in hidden else None} for i, s in enumerate(sizes)
    ]
    suppressed = [i in hidden for i in range(len(sizes))]
    known = {v: not suppressed[v[0]] for rel in system.relations for v in rel}
    targets = {(i, "N") for i in hidden} | {(i, "D") for i in hidden}

    def score(i: int, var_i: int, kind: str, is_total: bool, distance: int) -> tuple:
        return (is_total, kind == "same", distance, sizes[i], i)

    loop(system, rows, suppressed, known, targets, score)
    unknown = {v for v, k in known.items() if not k}
    assert not determined(system.relations, unknown) & targets  # type: ignore[arg-type]
    return suppressed, targets


def test_a_fix_that_creates_a_recovery_in_a_linked_table_is_fixed_there() -> None:
    """Round 1 hides cell 3 to protect cell 0; cell 3 is then recoverable through the other
    relation it lies in (3 + 5 = 10), so round 2 hides 5, which table 2 then gives away, so
    round 3 hides 6 there. Table 11-14 is independent and already safe: it stays as it is."""
    sizes = [2, 40, 30, 9, 81, 8, 10, 12, 15, 45, 17, 3, 4, 20, 27]
    relations = [
        ({(i, "N"): 1.0 for i in (0, 1, 2, 3)} | {(4, "N"): -1.0}, "breakdown", (4, "N")),
        ({(i, "N"): 1.0 for i in (5, 6, 7, 8)} | {(9, "N"): -1.0}, "breakdown", (9, "N")),
        ({(3, "N"): 1.0, (5, "N"): 1.0, (10, "N"): -1.0}, "breakdown", (10, "N")),
        ({(i, "N"): 1.0 for i in (11, 12, 13)} | {(14, "N"): -1.0}, "breakdown", (14, "N")),
    ]
    suppressed, _ = run_loop(_fix_loop, relations, sizes, {0, 11, 12})
    assert [i for i, s in enumerate(suppressed) if s] == [0, 3, 5, 6, 11, 12]
    assert run_loop(plain_fix_loop, relations, sizes, {0, 11, 12})[0] == suppressed


system_strategy = st.tuples(
    st.lists(st.integers(1, 60), min_size=4, max_size=18),  # row sizes
    st.lists(  # relations: members, total, kind, which count (N or D)
        st.tuples(
            st.lists(st.integers(0, 17), min_size=1, max_size=5, unique=True),
            st.integers(0, 17),
            st.sampled_from(["breakdown", "family", "same"]),
            st.sampled_from("NND"),
        ),
        min_size=1,
        max_size=10,
    ),
    st.sets(st.integers(0, 17), max_size=5),  # primary suppression
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(system_strategy)
def test_fix_loop_hides_what_the_plain_loop_hides(case: tuple) -> None:
    """Reusing searches and the audit across rounds changes no choice, and nothing stays
    recoverable."""
    sizes, raw, hidden = case
    n = len(sizes)
    relations = []
    for members, total, kind, count in raw:
        cells = [m % n for m in members if m % n != total % n]
        if cells:
            terms = {(m, count): 1.0 for m in cells}
            terms[(total % n, count)] = -1.0
            relations.append((terms, kind, (total % n, count)))
    hidden = {h % n for h in hidden}
    fast, fast_targets = run_loop(_fix_loop, relations, sizes, hidden)
    plain, plain_targets = run_loop(plain_fix_loop, relations, sizes, hidden)
    assert fast == plain
    assert fast_targets == plain_targets
