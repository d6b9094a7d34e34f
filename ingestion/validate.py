"""Turn a canonical all-VARCHAR table into typed columns plus one row per contract violation.

Everything is generated SQL over the whole file at once: a typed expression per column and a
predicate per rule, so a million rows are validated in a few set-based scans.
"""

from __future__ import annotations

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


def _sql_list(values: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(quote_literal(v) for v in values) + "]"


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
        return f"case when list_contains({codes}, {norm}) then {norm} end"
    if col.kind == "multi":
        codes = _sql_list(col.codes)
        parts = f"list_transform(string_split({ref}, ';'), lambda x: lower(trim(x)))"
        return (
            f"case when {ref} is not null and len(list_filter({parts}, lambda x: x <> '' and "
            f"not list_contains({codes}, x))) = 0 then nullif(array_to_string(list_sort("
            f"list_distinct(list_filter({parts}, lambda x: x <> ''))), ';'), '') end"
        )
    if col.kind == "int":
        return f"try_cast({ref} as integer)"
    if col.kind == "decimal":
        return f"try_cast(replace(replace({ref}, ' ', ''), ',', '.') as double)"
    if col.kind == "date":
        return (
            f"(select case when year(d) between 1900 and 2100 then d end from "
            f"(select try_strptime({ref}, {_sql_list(DATE_FORMATS)})::date as d))"
        )
    if col.kind == "timestamp":
        return f"try_strptime({ref}, {_sql_list(TIMESTAMP_FORMATS)})"
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


def build_typed(spec: FileSpec, source_table: str, target: str) -> str:
    """CREATE a temp table with `_line`, typed columns and the raw text as `_raw_<col>`."""
    select = ["_line"]
    for col in spec.columns:
        ref = quote_ident(col.name)
        select.append(f"{typed_expr(col, ref)} as {ref}")
        select.append(f"{ref} as {quote_ident('_raw_' + col.name)}")
    return f"create or replace temp table {target} as select {', '.join(select)} from {source_table}"


def violation_selects(spec: FileSpec, typed: str) -> list[str]:
    """SELECTs yielding (line, column_name, reason, value) for each column rule."""
    out = []
    for col in spec.columns:
        ref, raw = quote_ident(col.name), quote_ident("_raw_" + col.name)
        shown = "null" if col.name in PERSONAL_COLUMNS else raw
        name = quote_literal(col.name)
        if col.required:
            out.append(
                f"select _line, {name}, 'required value missing', null from {typed} where {raw} is null"
            )
        if col.kind != "text":
            reason = quote_literal(problem(col))
            out.append(
                f"select _line, {name}, {reason}, {shown} from {typed} "
                f"where {raw} is not null and {ref} is null"
            )
    return out
