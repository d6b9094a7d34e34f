"""Turn a canonical all-VARCHAR table into typed columns plus one row per contract violation.

Everything is generated SQL over the whole file at once: a typed expression per column and a
predicate per rule, so a million rows are validated in a few set-based scans. Expensive conversions
(multi-choice lists, dates, timestamps) run once per distinct value and are joined back, and all
row-level rules are evaluated in one scan that keeps only the failing rows.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ingestion.contract import CODEBOOK, PERSONAL_COLUMNS, Column, FileSpec
from ingestion.db import quote_ident, quote_literal

# Date questions of survey tools often come as midnight timestamps (LimeSurvey: 2001-04-03 00:00:00).
DATE_FORMATS = [
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%Y/%m/%d",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y %H:%M",
]
TIMESTAMP_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d",
    "%d/%m/%Y",
]
UPPER_CODES = {"sex", "nace_section"}
# Kinds whose conversion costs microseconds per value (list lambdas, format lists) but whose values
# repeat a lot: converted over the distinct values only.
MAPPED_KINDS = {"multi", "date", "timestamp"}


def _sql_list(values: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(quote_literal(v) for v in values) + "]"


def parse_first(ref: str, formats: list[str]) -> str:
    """SQL equal to ``try_strptime(ref, formats)`` (the first format that parses), but cheaper.

    A failed try_strptime costs about a microsecond, so a value in the list's seventh format paid six
    failures. A format can only parse a value holding its literal characters (DuckDB matches
    literals exactly; the number fields take digits only), so formats whose literals the value lacks
    are skipped: the result is unchanged, the failed attempts are mostly gone.
    """
    parts = []
    for fmt in formats:
        needed = Counter(re.sub(r"%.", "", fmt).replace(" ", ""))
        conds = [
            f"contains({ref}, {quote_literal(c)})"
            if n == 1
            else f"length({ref}) - length(replace({ref}, {quote_literal(c)}, '')) >= {n}"
            for c, n in sorted(needed.items())
        ]
        attempt = f"try_strptime({ref}, {quote_literal(fmt)})"
        parts.append(f"case when {' and '.join(conds)} then {attempt} end" if conds else attempt)
    return f"coalesce({', '.join(parts)})"


def normalised(col: Column, ref: str) -> str:
    """The canonical-code spelling of a raw value (case-folded as the codebook writes codes)."""
    if col.kind in ("code", "multi"):
        return f"upper({ref})" if (col.codebook or col.name) in UPPER_CODES else f"lower({ref})"
    return ref


def typed_expr(col: Column, ref: str) -> str:
    """SQL giving the typed value, or NULL when the raw value cannot be read as the type."""
    if col.kind == "code":
        codes = _sql_list(col.codes)
        norm = normalised(col, ref)
        # list_position, not list_contains: DuckDB rewrites the latter into a join per column, which
        # cost more to plan than a small file takes to convert.
        return f"case when list_position({codes}, {norm}) is not null then {norm} end"
    if col.kind == "multi":
        codes = _sql_list(col.codes)
        parts = f"list_transform(string_split({ref}, ';'), lambda x: lower(trim(x)))"
        return (
            f"case when {ref} is not null and len(list_filter({parts}, lambda x: x <> '' and "
            f"not list_contains({codes}, x))) = 0 then nullif(array_to_string(list_sort("
            f"list_distinct(list_filter({parts}, lambda x: x <> ''))), ';'), '') end"
        )
    if col.kind == "int":
        # Digits only: a cast alone would round `2019.5` to 2020.
        return (
            f"case when regexp_full_match({ref}, '\\s*[+-]?[0-9]+\\s*') then try_cast({ref} as integer) end"
        )
    if col.kind == "decimal":
        # Finite numbers only: `NaN` and `inf` cast to doubles that poison every mean downstream.
        number = f"replace(replace({ref}, ' ', ''), ',', '.')"
        return (
            f"case when regexp_full_match({number}, '[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?') "
            f"then try_cast({number} as double) end"
        )
    if col.kind == "date":
        return (
            f"(select case when year(d) between 1900 and 2100 then d end from "
            f"(select ({parse_first(ref, DATE_FORMATS)})::date as d))"
        )
    if col.kind == "timestamp":
        return parse_first(ref, TIMESTAMP_FORMATS)
    return ref


def problem(col: Column) -> str:
    if col.kind == "code":
        codes = CODEBOOK[col.codebook or col.name]
        shown = ", ".join(codes[:12]) + (", ..." if len(codes) > 12 else "")
        return f"unknown code (expected one of: {shown})"
    if col.kind == "multi":
        return f"unknown code in multi-choice answer (expected codes of: {', '.join(col.codes)})"
    return {
        "int": "not a whole number",
        "decimal": "not a number",
        "date": "not a valid date (expected YYYY-MM-DD or DD/MM/YYYY)",
        "timestamp": "not a valid timestamp (expected YYYY-MM-DD HH:MM[:SS] or DD/MM/YYYY HH:MM)",
    }.get(col.kind, "invalid value")


def raw_name(col: Column) -> str:
    """Column of the typed table holding the raw text: a text column's typed value is its raw text."""
    return col.name if col.kind == "text" else "_raw_" + col.name


def build_typed(spec: FileSpec, source_table: str, target: str, distinct_source: str | None = None) -> str:
    """CREATE a temp table with `_line`, `_rn`, the typed columns, `_flag` (a rule on a required
    column fails: the row is rejected) and `_cell` (an optional value is unreadable: it becomes
    NULL and the row loads).

    The raw text of the columns is not copied: only flagged rows need it, and `violations_sql` takes
    it from the parsed records by `_rn`. Mapped kinds are converted over the distinct non-null raw
    values, read from `distinct_source` (default `source_table`; same values, cheaper to scan), and
    joined back.
    """
    ctes, joins, flags, cells = [], [], [], []
    select = ["s._line", "s._rn"]
    for i, col in enumerate(spec.columns):
        ref = quote_ident(col.name)
        raw = f"s.{ref}"
        if col.kind in MAPPED_KINDS:
            m = f"m{i}"
            ctes.append(
                f"{m} as (select v, {typed_expr(col, 'v')} as t "
                f"from (select distinct {ref} as v from {distinct_source or source_table} "
                f"where {ref} is not null))"
            )
            joins.append(f"left join {m} on {raw} = {m}.v")
            value = f"{m}.t"
        else:
            value = typed_expr(col, raw)
        select.append(f"{value} as {ref}")
        # The same predicates as column_rules, over the raw and typed values of this row.
        if col.required:
            flags.append(f"{raw} is null")
        if col.kind != "text":
            (flags if col.required else cells).append(f"({raw} is not null and {value} is null)")
    select.append(f"({' or '.join(flags) or 'false'}) as _flag")
    select.append(f"({' or '.join(cells) or 'false'}) as _cell")
    with_sql = ("with " + ", ".join(ctes) + " ") if ctes else ""
    return (
        f"create or replace temp table {target} as {with_sql}select {', '.join(select)} "
        f"from {source_table} s {' '.join(joins)}"
    )


@dataclass(frozen=True)
class Rule:
    """A row-level rule: rows where `condition` holds get a quarantine row (SQL expressions)."""

    condition: str
    column: str
    reason: str
    value: str
    kept: bool = False  # True: only the cell is bad; it is NULL in the loaded row


def column_rules(spec: FileSpec) -> list[Rule]:
    """The contract's rules for each column: required values, and values that do not read as the type.

    Over the flagged rows, where `_raw_<col>` holds the raw text of a non-text column. An unreadable
    optional value is a cell-level problem (`kept`): the row loads with that value NULL.
    """
    out = []
    for col in spec.columns:
        ref, raw = quote_ident(col.name), quote_ident(raw_name(col))
        shown = "null" if col.name in PERSONAL_COLUMNS else raw
        name = quote_literal(col.name)
        if col.required:
            out.append(Rule(f"{raw} is null", name, "'required value missing'", "null"))
        if col.kind != "text":
            out.append(
                Rule(
                    f"{raw} is not null and {ref} is null",
                    name,
                    quote_literal(problem(col)),
                    shown,
                    kept=not col.required,
                )
            )
    return out


def violations_sql(
    spec: FileSpec, extra: list[Rule], typed: str, raw_source: str, flagged: str
) -> tuple[str, list[str]]:
    """One scan for all row rules: CREATE the table of failing rows, then SELECTs unpivoting them.

    A row is flagged when a column rule failed (`_flag`, `_cell`) or an `extra` rule (over typed
    columns) holds; only those rows get their raw text back from `raw_source` (record `_rn` at
    rowid + 1). Returns (create statement, selects of (line, column_name, reason, value, kept) over
    `flagged`).
    """
    raw = "".join(
        f", r.{quote_ident(c.name)} as {quote_ident(raw_name(c))}" for c in spec.columns if c.kind != "text"
    )
    where = " or ".join(["_flag", "_cell"] + [f"({r.condition})" for r in extra])
    create = (
        f"create or replace temp table {flagged} as select t.*{raw} "
        f"from (select * from {typed} where {where}) t join {raw_source} r on r.rowid + 1 = t._rn"
    )
    selects = [
        f"select _line, {r.column}, {r.reason}, {r.value}, {'true' if r.kept else 'false'} "
        f"from {flagged} where {r.condition}"
        for r in column_rules(spec) + extra
    ]
    return create, selects
