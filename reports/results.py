"""Query results as pages see them: named, small, with suppression already applied.

A page never sees the raw rows of a suppressed indicator: when a result has a ``suppressed``
column, every measure of a row with ``suppressed = true`` is replaced by ``None`` as soon as the
rows are fetched, so neither a component nor a hand-written ``{{ r.value }}`` can publish it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

#: Numeric columns that describe a group rather than measure it: kept on suppressed rows.
#: ``plan_total`` (transitions) is the published total of the whole plan, not of the hidden
#: cell: disclosure control has already blanked it where the plan total itself is hidden.
DIMENSION_COLUMNS: frozenset[str] = frozenset({"cohort", "eqf_level", "year", "plan_total"})


def is_suppressed(row: Mapping[str, Any]) -> bool:
    """True when the row carries ``suppressed = true`` (a missing or NULL flag is not suppression)."""
    return bool(row.get("suppressed"))


def _is_measure(column: str, value: Any) -> bool:
    """Measures are the non-boolean numbers of a row, except group descriptors such as cohort."""
    if column in DIMENSION_COLUMNS or isinstance(value, bool):
        return False
    return isinstance(value, int | float | Decimal)


def mask_suppressed(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Rows as dicts; on suppressed rows every measure (value, counts, interval...) becomes None."""
    out: list[dict[str, Any]] = []
    has_flag = "suppressed" in columns
    for raw in rows:
        row = dict(zip(columns, raw, strict=True))
        if has_flag and is_suppressed(row):
            row = {c: (None if _is_measure(c, v) else v) for c, v in row.items()}
        out.append(row)
    return out


def _matches(value: Any, wanted: Any) -> bool:
    """Equality, or membership when the wanted value is a list/tuple/set."""
    if isinstance(wanted, list | tuple | set | frozenset):
        return any(_matches(value, w) for w in wanted)
    if isinstance(value, date | datetime) and isinstance(wanted, str):
        return value.isoformat().startswith(wanted)
    if value is None or wanted is None:
        return value is wanted
    if isinstance(value, int | float | Decimal) and isinstance(wanted, str):
        return str(value) == wanted
    return bool(value == wanted)


@dataclass(frozen=True)
class QueryResult:
    """The rows of one named ``sql`` block, available to the page under the block's name."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def where(self, **criteria: Any) -> QueryResult:
        """Rows whose columns equal the criteria (a list means "any of"): ``rates.where(wave='m6')``."""
        unknown = [c for c in criteria if c not in self.columns]
        if unknown:
            raise KeyError(
                f"query '{self.name}' has no column {', '.join(map(repr, unknown))}; "
                f"columns: {', '.join(self.columns)}"
            )
        kept = tuple(r for r in self.rows if all(_matches(r.get(c), w) for c, w in criteria.items()))
        return QueryResult(self.name, self.columns, kept)

    def first(self, **criteria: Any) -> dict[str, Any] | None:
        """The first matching row, or None: for values that may legitimately be missing."""
        found = self.where(**criteria).rows
        return found[0] if found else None

    def one(self, **criteria: Any) -> dict[str, Any]:
        """Exactly one matching row; fails loudly on none or several, so a typo is not a blank."""
        found = self.where(**criteria).rows
        if len(found) != 1:
            what = ", ".join(f"{k}={v!r}" for k, v in criteria.items()) or "no filter"
            raise LookupError(
                f"query '{self.name}': expected exactly one row for {what}, found {len(found)}"
                + ("; add a filter such as source=... or wave=..." if found else "")
            )
        return found[0]

    def column(self, name: str) -> list[Any]:
        """All values of one column, in row order."""
        if name not in self.columns:
            raise KeyError(f"query '{self.name}' has no column {name!r}")
        return [r.get(name) for r in self.rows]

    def unique(self, name: str) -> list[Any]:
        """Distinct values of one column, in order of first appearance."""
        return list(dict.fromkeys(self.column(name)))
