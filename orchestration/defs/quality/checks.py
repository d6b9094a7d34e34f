"""Data-quality asset checks: thin Dagster wrappers over the GX suites of `suites.py`.

Input checks are blocking, so a register, survey or admin table that breaks the contract stops the
dbt models built on it. Mart checks are blocking too: nothing runs after marts/indicators, but a
failed blocking check fails the run, and `gradtrack run` then keeps the last good warehouse instead
of publishing wrong numbers, unsuppressed small cells or leaked personal values. The loader enforces
the input rules per row (one school's bad rows or cells are held back at load time), so an input
check fails only on what the loader could not see. The survey fieldwork window and the landing-file
check (rejected or mostly quarantined files) warn without blocking.
"""

import time
from collections.abc import Callable
from typing import Any

import dagster as dg
import duckdb as duckdb_lib
from dagster_duckdb import DuckDBResource

from ingestion.contract import WAVES
from orchestration import settings
from orchestration.defs.partitions import WAREHOUSE_POOL
from orchestration.defs.quality import suites

REGISTER = dg.AssetKey(["raw", "register"])
EMPLOYMENT_SPELLS = dg.AssetKey(["raw", "employment_spells"])
INDICATORS = dg.AssetKey(["marts", "indicators"])
ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN


def check_result(outcome: suites.SuiteOutcome, severity: dg.AssetCheckSeverity) -> dg.AssetCheckResult:
    """A suite's outcome as what the Dagster UI shows: counts, failing rules, one table of results."""
    failed = outcome.failed
    metadata: dict[str, Any] = {
        "gx_suite": dg.MetadataValue.text(outcome.suite),
        "rows_validated": dg.MetadataValue.int(outcome.rows),
        "expectations_evaluated": dg.MetadataValue.int(len(outcome.outcomes)),
        "expectations_failed": dg.MetadataValue.int(len(failed)),
        "failing_expectations": dg.MetadataValue.text(", ".join(o.name for o in failed) or "none"),
        "unexpected_counts": dg.MetadataValue.json(
            {o.name: o.unexpected_count for o in failed if o.unexpected_count is not None}
        ),
        "results": dg.MetadataValue.md(outcome.markdown()),
        "read_seconds": dg.MetadataValue.float(round(outcome.read_seconds, 3)),
        "validate_seconds": dg.MetadataValue.float(round(outcome.seconds, 3)),
    }
    if outcome.note:
        metadata["note"] = dg.MetadataValue.text(outcome.note)
    description = (
        f"{len(outcome.outcomes)} expectations on {outcome.rows} rows passed"
        if outcome.success
        else f"{len(failed)} of {len(outcome.outcomes)} expectations failed: "
        # Where to look: the file and line of the first failing rows, when the table has lineage.
        + "; ".join(o.name + (f" at {', '.join(o.rows)}" if o.rows else "") for o in failed)
    )
    return dg.AssetCheckResult(
        passed=outcome.success, severity=severity, metadata=metadata, description=description
    )


def _run(
    context: dg.AssetCheckExecutionContext,
    duckdb: DuckDBResource,
    validate: Callable[[duckdb_lib.DuckDBPyConnection], suites.SuiteOutcome],
    severity: dg.AssetCheckSeverity,
) -> dg.AssetCheckResult:
    started = time.perf_counter()
    try:
        with duckdb.get_connection() as con:
            outcome = validate(con)
    except duckdb_lib.CatalogException as exc:  # the table the check guards does not exist
        return dg.AssetCheckResult(
            passed=False,
            severity=severity,
            description="table missing",
            metadata={"error": dg.MetadataValue.text(str(exc).splitlines()[0])},
        )
    context.log.info(
        f"{outcome.suite}: {len(outcome.outcomes) - len(outcome.failed)}/{len(outcome.outcomes)} "
        f"expectations passed on {outcome.rows} rows in {time.perf_counter() - started:.1f} s"
    )
    return check_result(outcome, severity)


# ---------------------------------------------------------------- inputs (blocking)


@dg.asset_check(
    asset=REGISTER,
    name="register_valid",
    blocking=True,
    pool=WAREHOUSE_POOL,
    description="Codes in the codebook, graduation date in the cohort year or the next, age 14-70 at "
    "graduation, one row per (school_code, student_id). Blocks everything built on the register.",
)
def register_valid(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource) -> dg.AssetCheckResult:
    return _run(context, duckdb, suites.check_register, ERROR)


def _survey_checks(wave: str) -> list[dg.AssetChecksDefinition]:
    asset = dg.AssetKey(["raw", f"survey_{wave}"])

    @dg.asset_check(
        asset=asset,
        name="responses_valid",
        blocking=True,
        pool=WAREHOUSE_POOL,
        description=f"{wave}: response_key unique, started_at <= submitted_at, timestamps between "
        "2000 and now, the wave's items in the codebook. Blocks the dbt models on this wave.",
    )
    def responses_valid(
        context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource
    ) -> dg.AssetCheckResult:
        return _run(context, duckdb, lambda con: suites.check_survey(con, wave), ERROR)

    @dg.asset_check(
        asset=asset,
        name="fieldwork_window",
        blocking=False,
        pool=WAREHOUSE_POOL,
        description=f"{wave}: started_at within the wave's fieldwork years for the register's "
        "cohorts. Warns only: a survey may arrive before the register of its cohort.",
    )
    def fieldwork_window(
        context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource
    ) -> dg.AssetCheckResult:
        return _run(context, duckdb, lambda con: suites.check_survey_fieldwork(con, wave), WARN)

    return [responses_valid, fieldwork_window]


@dg.asset_check(
    asset=EMPLOYMENT_SPELLS,
    name="spells_valid",
    blocking=True,
    pool=WAREHOUSE_POOL,
    description="spell_start <= spell_end, contract_type in the admin codebook, part_time_pct 0-100, "
    "spell_key unique. Blocks the admin indicators.",
)
def spells_valid(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource) -> dg.AssetCheckResult:
    return _run(context, duckdb, suites.check_spells, ERROR)


# ---------------------------------------------------------------- landing files (warn only)

QUARANTINE_WARN_SHARE = dg.EnvVar("GRADTRACK_QUARANTINE_WARN_SHARE")  # optional; default 0.5


def quarantine_warn_share() -> float:
    """Share of a file's rows quarantined above which the file is reported (default: half)."""
    value = QUARANTINE_WARN_SHARE.get_value()
    share = float(value) if value else 0.5
    if not 0 <= share <= 1:
        raise ValueError(f"GRADTRACK_QUARANTINE_WARN_SHARE must be between 0 and 1, got {value!r}")
    return share


def unusable_files(
    con: duckdb_lib.DuckDBPyConnection, source: str, wave: str | None, share: float
) -> list[tuple[str, str, str]]:
    """(file, status, why) of this source's files whose latest load was rejected, or quarantined
    more than `share` of its rows (all of them counts whatever the share)."""
    return [
        (f, st, why)
        for f, st, why in con.execute(
            """with latest as (
                   select *, row_number() over (partition by file order by started_at desc) as n
                   from audit.load_log where source = ? and wave is not distinct from ?)
               select file, status,
                      case when status = 'rejected' then message
                           else rows_quarantined || ' of ' || rows_read || ' rows quarantined' end
               from latest
               where n = 1 and (status = 'rejected' or (status = 'loaded' and rows_read > 0
                     and (rows_quarantined = rows_read or rows_quarantined > ? * rows_read)))
               order by file""",
            [source, wave, share],
        ).fetchall()
    ]


def _files_check(asset: dg.AssetKey, source: str, wave: str | None) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset,
        name="landing_files_usable",
        blocking=False,
        pool=WAREHOUSE_POOL,
        description="Every landing file of this table was read (none rejected) and no file had all, or "
        "more than GRADTRACK_QUARANTINE_WARN_SHARE (default half), of its rows quarantined. Warns only: "
        "the other files' figures are built.",
    )
    def landing_files_usable(
        context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource
    ) -> dg.AssetCheckResult:
        share = quarantine_warn_share()
        with duckdb.get_connection() as con:
            found = unusable_files(con, source, wave, share)
        table = "\n".join(f"| {f} | {st} | {why} |" for f, st, why in found)
        for f, st, why in found:
            context.log.warning(f"{f}: {st}: {why}")
        return dg.AssetCheckResult(
            passed=not found,
            severity=WARN,
            description="every file read and mostly loaded"
            if not found
            else f"{len(found)} file(s) rejected or mostly quarantined: " + ", ".join(f for f, _, _ in found),
            metadata={
                "files": dg.MetadataValue.int(len(found)),
                "quarantine_warn_share": dg.MetadataValue.float(share),
                "details": dg.MetadataValue.md("| file | status | why |\n|---|---|---|\n" + table),
            },
        )

    return landing_files_usable


file_checks: list[dg.AssetChecksDefinition] = [
    _files_check(REGISTER, "register", None),
    *[_files_check(dg.AssetKey(["raw", f"survey_{w}"]), "survey", w) for w in WAVES],
    _files_check(EMPLOYMENT_SPELLS, "admin", None),
]


# ---------------------------------------------------------------- marts/indicators (blocking)


@dg.asset_check(
    asset=INDICATORS,
    name="values_valid",
    blocking=True,
    pool=WAREHOUSE_POOL,
    description="Proportions in [0, 1], medians >= 0, differences in [-1, 1], graduates = numerator, "
    "numerator <= denominator, ci_low <= value <= ci_high within [0, 1].",
)
def values_valid(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource) -> dg.AssetCheckResult:
    return _run(context, duckdb, suites.check_indicator_values, ERROR)


@dg.asset_check(
    asset=INDICATORS,
    name="suppression_consistent",
    blocking=True,
    pool=WAREHOUSE_POOL,
    description="suppressed = (base < the threshold of orchestration.settings) wherever the base "
    "is in the table: disclosure control of every published number.",
)
def suppression_consistent(
    context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource
) -> dg.AssetCheckResult:
    threshold = settings.suppression_threshold()
    return _run(context, duckdb, lambda con: suites.check_indicator_suppression(con, threshold), ERROR)


@dg.asset_check(
    asset=INDICATORS,
    name="breakdowns_add_up",
    blocking=True,
    pool=WAREHOUSE_POOL,
    description="For each cohort, wave, indicator and source, the groups of every breakdown sum to "
    "the total's denominator and numerator (aggregated in SQL, validated with GX).",
)
def breakdowns_add_up(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource) -> dg.AssetCheckResult:
    return _run(context, duckdb, suites.check_indicator_breakdowns, ERROR)


@dg.asset_check(
    asset=INDICATORS,
    name="no_personal_values_outside_restricted",
    blocking=True,
    pool=WAREHOUSE_POOL,
    description="No national id, e-mail, phone or full name of the register in any text column "
    "outside the restricted schema. Fails the run, so a leaking build is never swapped in.",
)
def no_personal_values_outside_restricted(
    context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource
) -> dg.AssetCheckResult:
    from ingestion.privacy import personal_value_leaks

    started = time.perf_counter()
    with duckdb.get_connection() as con:
        leaks = personal_value_leaks(con)
    seconds = time.perf_counter() - started
    # Where, never what: schema, table, column and how many rows, not the values themselves.
    table = "\n".join(f"| {s}.{t} | {c} | {n} |" for s, t, c, n in leaks)
    context.log.info(f"personal value scan: {len(leaks)} leaking columns in {seconds:.1f} s")
    return dg.AssetCheckResult(
        passed=not leaks,
        severity=ERROR,
        description="no personal value outside restricted"
        if not leaks
        else "personal values of the register outside restricted, in "
        + ", ".join(f"{s}.{t}.{c} ({n} rows)" for s, t, c, n in leaks),
        metadata={
            "leaking_columns": dg.MetadataValue.int(len(leaks)),
            "leaking_rows": dg.MetadataValue.int(sum(n for *_, n in leaks)),
            "leaks": dg.MetadataValue.md("| table | column | rows |\n|---|---|---|\n" + table),
            "scan_seconds": dg.MetadataValue.float(round(seconds, 3)),
        },
    )


input_checks: list[dg.AssetChecksDefinition] = [
    register_valid,
    *[c for wave in WAVES for c in _survey_checks(wave)],
    spells_valid,
]
mart_checks: list[dg.AssetChecksDefinition] = [
    values_valid,
    suppression_consistent,
    breakdowns_add_up,
    no_personal_values_outside_restricted,
]
checks: list[dg.AssetChecksDefinition] = [*input_checks, *file_checks, *mart_checks]
