"""Disclosure control, in one place: what may be published from the warehouse, and how.

Reports never read the warehouse directly. :func:`publish` copies the aggregate tables that pages
may use into a separate *published* DuckDB file, after applying the policy below, and the engine
opens only that file (read-only, no file or network access). Exports of microdata go through
:func:`protect_microdata`. So a number that reaches a page or an export has passed these rules,
whatever a page's SQL says.

The policy is the one national producers use for graduate outcomes (HESA's rounding and
suppression methodology; ``docs/disclosure.md`` gives the reasons and what it protects against):

1. **Rounding.** Every published count — numerators, denominators, bases, graduates, transition
   cells and plan totals — is rounded to the nearest multiple of the rounding base (default 5,
   halves up; so 0, 1 and 2 are shown as 0). Rounding is per cell and deterministic: unchanged
   data give identical cells, whatever else is published.
2. **Threshold.** A figure whose unrounded base (the people it rests on) is under the threshold
   (default 20) is not shown: ``suppressed`` is true, every measure is NULL and ``mark`` is
   ``'small_base'``. A figure whose base is at least the threshold is always shown. There is no
   secondary suppression: differences of rounded counts do not isolate a small group.
3. **Shares on unrounded data.** Shares, medians, gaps and their Wilson intervals are computed
   by the warehouse on unrounded data and published as they are.
4. **Marks.** ``'no_data'`` where nobody is in the base; ``'low_precision'`` on a shown figure
   whose base is under ``low_precision_base`` (default 50) or whose 95 % interval is wider than
   ``low_precision_width`` (default 0.3).

The base of a row: the count itself for counts (``graduates``); the respondents (the ``survey``
row's denominator) for ``survey_weighted`` rows, whose denominator is a sum of weights; the
graduates with records for ``admin_share_of_months_employed`` (whose denominator counts months);
the smaller of the two groups for the non-response gap; the denominator otherwise. A row the
warehouse itself flags ``suppressed`` is never shown either.

No free text and no personal data reach the published file: only the whitelisted aggregate
tables and, of the register, the school names and regions. Everything is set-based SQL in
DuckDB: publishing costs the same few queries for 10 or 10 000 schools.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ingestion.db import scalar

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_THRESHOLD",
    "MARKS",
    "PUBLISHED_BREAKDOWNS",
    "Policy",
    "control_indicators",
    "control_transitions",
    "protect_microdata",
    "publish",
]

#: The publication threshold's default: no figure on fewer than 20 people.
DEFAULT_THRESHOLD = 20
DEFAULT_ROUNDING_BASE = 5
#: Why a cell shows no number, or a number to read with care (``mark`` column).
MARKS = ("small_base", "secondary", "no_data", "low_precision")
POLICY_NAME = "round-and-threshold v1 (HESA-style)"


@dataclass(frozen=True)
class Policy:
    """The published producers' rules, as settings (``orchestration.settings`` reads them)."""

    threshold: int = DEFAULT_THRESHOLD
    rounding_base: int = DEFAULT_ROUNDING_BASE
    low_precision_base: int = 50
    low_precision_width: float = 0.3

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.rounding_base < 1:
            raise ValueError(
                f"threshold and rounding base must be positive integers, got {self.threshold} "
                f"and {self.rounding_base}"
            )

    def rounded(self, count: float | None) -> int | None:
        """A count as published: the nearest multiple of the rounding base, halves up."""
        if count is None:
            return None
        return int(self.rounding_base * ((count + self.rounding_base / 2) // self.rounding_base))


DEFAULT_POLICY = Policy()

KEY = ("cohort", "wave", "indicator", "source", "breakdown", "breakdown_value")
MEASURES = ("value", "numerator", "denominator", "ci_low", "ci_high")
INDICATOR_COLUMNS = (*KEY, *MEASURES, "base", "suppressed", "mark")
TRANSITION_KEY = ("cohort", "wave", "breakdown", "breakdown_value")
TRANSITION_COLUMNS = (
    *TRANSITION_KEY,
    "plan_after_graduation",
    "current_status",
    "graduates",
    "plan_total",
    "suppressed",
    "mark",
)
#: Breakdowns copied to the published file (``qualification``: dozens of small groups that no
#: report shows).
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
#: of a school and of all schools.
PUBLISHED_TRANSITION_BREAKDOWNS: tuple[str, ...] = ("total", "school")
STATUSES = (
    "work",
    "work_and_study",
    "self_employed",
    "further_studies",
    "volunteering",
    "unemployed",
    "inactive",
)

_INDICATOR_INPUT = {
    "cohort": pa.int32(),
    "wave": pa.string(),
    "indicator": pa.string(),
    "source": pa.string(),
    "breakdown": pa.string(),
    "breakdown_value": pa.string(),
    "numerator": pa.float64(),
    "denominator": pa.float64(),
    "value": pa.float64(),
    "ci_low": pa.float64(),
    "ci_high": pa.float64(),
    "suppressed": pa.bool_(),
}
_TRANSITION_INPUT = {
    "cohort": pa.int32(),
    "wave": pa.string(),
    "breakdown": pa.string(),
    "breakdown_value": pa.string(),
    "plan_after_graduation": pa.string(),
    "current_status": pa.string(),
    "graduates": pa.int64(),
    "suppressed": pa.bool_(),
}


# --------------------------------------------------------------------------- the policy in SQL


def _round_sql(expr: str, policy: Policy) -> str:
    base = int(policy.rounding_base)
    return f"cast({base} * floor(({expr}) / {base} + 0.5) as bigint)"


def indicators_sql(relation: str, policy: Policy) -> str:
    """The published ``marts.indicators`` from a relation with the warehouse's columns."""
    t = int(policy.threshold)
    lp_base, lp_width = int(policy.low_precision_base), float(policy.low_precision_width)
    r = _round_sql
    return f"""
with src as (select * from {relation}),
group_rows as (select cohort, wave, indicator, source, breakdown, breakdown_value, denominator
               from src),
based as (
    select s.*,
        case
            when s.indicator = 'graduates' or s.indicator like '%\\_count' escape '\\'
                then coalesce(s.numerator, s.value)
            when s.source = 'survey_weighted' then survey.denominator
            when s.indicator = 'admin_share_of_months_employed' then admin.denominator
            when s.indicator like 'nonresponse\\_gap\\_%' escape '\\'
                then least(agreement.denominator, s.denominator - agreement.denominator)
            else s.denominator
        end as raw_base,
        s.indicator = 'graduates' or s.indicator like '%\\_count' escape '\\' as is_count
    from src s
    left join group_rows survey
        on s.source = 'survey_weighted' and survey.source = 'survey'
       and survey.indicator = s.indicator and survey.cohort = s.cohort and survey.wave = s.wave
       and survey.breakdown = s.breakdown and survey.breakdown_value = s.breakdown_value
    left join group_rows admin
        on s.indicator = 'admin_share_of_months_employed'
       and admin.indicator = 'eqavet5b_employment_rate' and admin.source = 'admin'
       and admin.cohort = s.cohort and admin.wave = s.wave
       and admin.breakdown = s.breakdown and admin.breakdown_value = s.breakdown_value
    left join group_rows agreement
        on s.indicator like 'nonresponse\\_gap\\_%' escape '\\'
       and agreement.indicator = 'survey_admin_employment_agreement'
       and agreement.cohort = s.cohort and agreement.wave = s.wave
       and agreement.breakdown = s.breakdown and agreement.breakdown_value = s.breakdown_value
),
marked as (
    select *,
        case
            when value is null or raw_base = 0 then 'no_data'
            when raw_base is null or raw_base < {t} or coalesce(suppressed, false) then 'small_base'
            when not is_count and (raw_base < {lp_base} or ci_high - ci_low > {lp_width})
                then 'low_precision'
        end as mark
    from based
)
select cohort, wave, indicator, source, breakdown, breakdown_value,
    case when hidden then null when is_count then {r("value", policy)} else value end as value,
    case when hidden then null else {r("numerator", policy)} end as numerator,
    case when hidden then null else {r("denominator", policy)} end as denominator,
    case when hidden then null else ci_low end as ci_low,
    case when hidden then null else ci_high end as ci_high,
    case when hidden then null else {r("raw_base", policy)} end as base,
    hidden as suppressed,
    mark
from (select *, coalesce(mark in ('no_data', 'small_base'), false) as hidden from marked)
order by cohort, wave, indicator, source, breakdown, breakdown_value
"""


def transitions_sql(relation: str, policy: Policy) -> str:
    """The published ``marts.plan_status_transitions``: cells and plan totals rounded; a plan
    whose unrounded total is under the threshold shows no cell."""
    t, lp_base = int(policy.threshold), int(policy.low_precision_base)
    r = _round_sql
    return f"""
with totals as (
    select *,
        sum(graduates) over (
            partition by cohort, wave, breakdown, breakdown_value, plan_after_graduation
        ) as raw_total,
        bool_or(coalesce(suppressed, false)) over (
            partition by cohort, wave, breakdown, breakdown_value, plan_after_graduation
        ) as flagged
    from {relation}
),
marked as (
    select *,
        case
            when coalesce(raw_total, 0) = 0 then 'no_data'
            when raw_total < {t} or flagged then 'small_base'
            when raw_total < {lp_base} then 'low_precision'
        end as mark
    from totals
)
select cohort, wave, breakdown, breakdown_value, plan_after_graduation, current_status,
    case when hidden then null else {r("graduates", policy)} end as graduates,
    case when hidden then null else {r("raw_total", policy)} end as plan_total,
    -- the share on unrounded counts, as HESA computes percentages: rounding protects the counts
    case when hidden then null else graduates / nullif(raw_total, 0) end as share,
    hidden as suppressed,
    mark
from (select *, coalesce(mark in ('no_data', 'small_base'), false) as hidden from marked)
order by cohort, wave, breakdown, breakdown_value, plan_after_graduation, current_status
"""


def _arrow(rows: Sequence[Mapping[str, Any]], schema: Mapping[str, pa.DataType]) -> pa.Table:
    return pa.table({c: pa.array([r.get(c) for r in rows], type=t) for c, t in schema.items()})


def _run_on(table: pa.Table, sql_of: Any, policy: Policy) -> list[dict[str, Any]]:
    con = duckdb.connect()
    try:
        con.register("rows_in", table)
        cursor = con.execute(sql_of("rows_in", policy))
        cols = [d[0] for d in cursor.description or ()]
        return [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]
    finally:
        con.close()


def control_indicators(
    rows: Sequence[Mapping[str, Any]], policy: Policy = DEFAULT_POLICY
) -> list[dict[str, Any]]:
    """The policy applied to ``marts.indicators`` rows (the SQL :func:`publish` runs)."""
    return _run_on(_arrow(rows, _INDICATOR_INPUT), indicators_sql, policy)


def control_transitions(
    rows: Sequence[Mapping[str, Any]], policy: Policy = DEFAULT_POLICY
) -> list[dict[str, Any]]:
    """The policy applied to ``marts.plan_status_transitions`` rows (as :func:`publish`)."""
    return _run_on(_arrow(rows, _TRANSITION_INPUT), transitions_sql, policy)


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
        scalar(
            con,
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        )
    )


def register_relation(con: duckdb.DuckDBPyConnection) -> str | None:
    """The pseudonymised register to read group attributes from (never identifiers)."""
    for schema, table in (("staging", "stg_register__graduates"), ("raw", "register")):
        if _table_exists(con, schema, table):
            return f"{schema}.{table}"
    return None


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    }


def _read_inputs(con: duckdb.DuckDBPyConnection, breakdowns: Sequence[str]) -> dict[str, pa.Table]:
    """The warehouse tables the published file is made of, as Arrow (aggregates only)."""
    marks = ", ".join("?" for _ in breakdowns) or "NULL"
    empty_ind = pa.schema(list(_INDICATOR_INPUT.items())).empty_table()
    empty_tr = pa.schema(list(_TRANSITION_INPUT.items())).empty_table()
    out: dict[str, pa.Table] = {"indicators": empty_ind, "transitions": empty_tr}
    if _table_exists(con, "marts", "indicators"):
        have = _columns(con, "marts", "indicators")
        cols = [c if c in have else f"null as {c}" for c in _INDICATOR_INPUT]
        out["indicators"] = con.sql(
            f"select {', '.join(cols)} from marts.indicators where breakdown in ({marks})",
            params=list(breakdowns),
        ).to_arrow_table()
    if _table_exists(con, "marts", "plan_status_transitions"):
        flows = [b for b in breakdowns if b in PUBLISHED_TRANSITION_BREAKDOWNS]
        fmarks = ", ".join("?" for _ in flows) or "NULL"
        have = _columns(con, "marts", "plan_status_transitions")
        cols = [c if c in have else f"null as {c}" for c in _TRANSITION_INPUT]
        out["transitions"] = con.sql(
            f"select {', '.join(cols)} from marts.plan_status_transitions where breakdown in ({fmarks})",
            params=flows,
        ).to_arrow_table()
    register = register_relation(con)
    if register:
        out["schools"] = con.sql(
            f"""select cast(cohort as integer) as cohort, school_code, min(school_name) as school_name,
                       min(country) as country,
                       case when count(distinct coalesce(region, 'unknown')) = 1
                            then min(coalesce(region, 'unknown')) end as region
                from {register} group by cohort, school_code order by cohort, school_code"""
        ).to_arrow_table()
    elif _table_exists(con, "marts", "dim_school"):
        out["schools"] = con.sql(
            "select cohort, school_code, school_name, country, region from marts.dim_school"
        ).to_arrow_table()
    for schema, table in (("staging", "stg_context__indicators"), ("raw", "context_indicators")):
        if _table_exists(con, schema, table):
            out["context"] = con.sql(
                f"select region, cast(year as integer) as year, indicator, cast(value as double) as value,"
                f" source from {schema}.{table}"
            ).to_arrow_table()
            break
    return out


def publish(
    source: str | Path | duckdb.DuckDBPyConnection,
    dest: str | Path,
    policy: Policy = DEFAULT_POLICY,
    breakdowns: Sequence[str] = PUBLISHED_BREAKDOWNS,
) -> Path:
    """Write the published file: controlled aggregates only (see the module doc).

    Tables: ``marts.indicators``, ``marts.plan_status_transitions``, ``marts.dim_school`` (code,
    name, country, region per cohort), ``context.indicators`` (regional context figures such as
    youth unemployment) and ``published.meta`` (the policy's settings; no timestamp, so that
    unchanged data give an identical file's content).
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
        inputs = _read_inputs(con, breakdowns)
    finally:
        if own:
            con.close()

    out = duckdb.connect(str(tmp))
    try:
        for schema in ("marts", "context", "published"):
            out.execute(f"create schema {schema}")
        for name, table in inputs.items():
            out.register(f"{name}_in", table)
        out.execute(f"create table marts.indicators as {indicators_sql('indicators_in', policy)}")
        out.execute(
            "create table marts.plan_status_transitions as " + transitions_sql("transitions_in", policy)
        )
        if "schools" in inputs:
            out.execute("create table marts.dim_school as select * from schools_in")
        else:
            out.execute(
                "create table marts.dim_school (cohort integer, school_code varchar, "
                "school_name varchar, country varchar, region varchar)"
            )
        if "context" in inputs:
            out.execute("create table context.indicators as select * from context_in")
        else:
            out.execute(
                "create table context.indicators (region varchar, year integer, indicator varchar,"
                " value double, source varchar)"
            )
        out.execute(
            "create table published.meta as select ?::integer as suppression_threshold, "
            "?::integer as rounding_base, ?::integer as low_precision_base, "
            "?::double as low_precision_width, ?::varchar as policy",
            [
                policy.threshold,
                policy.rounding_base,
                policy.low_precision_base,
                policy.low_precision_width,
                POLICY_NAME,
            ],
        )
    finally:
        out.close()
    os.replace(tmp, dest)
    return dest


def published_path_for(warehouse: Path, policy: Policy = DEFAULT_POLICY) -> Path:
    """Where the engine caches the published copy of a warehouse (temp dir, per file state)."""
    stat = warehouse.stat()
    rules = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()  # new rules, new copy
    state = f"{warehouse.resolve()}|{stat.st_mtime_ns}|{stat.st_size}|{policy!r}|{rules}"
    tag = hashlib.sha256(state.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "gradtrack-published" / f"{warehouse.stem}-{tag}.duckdb"
