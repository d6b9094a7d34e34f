"""One asset per landing source: thin Dagster wrappers over `ingestion.loaders`.

Asset keys are ["raw", <table>] so that dbt's `source('raw', <table>)` attaches to them. The register
and the survey waves are partitioned by cohort: a partition's run loads the files holding rows of
its cohorts and leaves the others for their own runs. Admin spells and context rates span cohorts.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from ingestion.contract import WAVES
from ingestion.loaders import FileReport, load_source, log_ignored
from orchestration import settings
from orchestration.defs.ingestion.resources import LandingFolder, PseudonymKeyResource
from orchestration.defs.partitions import (
    WAREHOUSE_POOL,
    cohort_partitions,
    covers_every_cohort,
    run_cohorts,
    single_run,
)

GROUP = "ingestion"


def _result(reports: list[FileReport]) -> dg.MaterializeResult:
    loaded = [r for r in reports if r.status == "loaded"]
    shown = [r for r in reports if r.status != "other_cohort"]
    table = "\n".join(
        f"| {r.file} | {r.status} | {r.rows_read} | {r.rows_loaded} | {r.rows_quarantined} |" for r in shown
    )
    return dg.MaterializeResult(
        metadata={
            "files": dg.MetadataValue.int(len(shown)),
            "files_of_other_cohorts": dg.MetadataValue.int(len(reports) - len(shown)),
            "files_loaded": dg.MetadataValue.int(len(loaded)),
            "files_skipped": dg.MetadataValue.int(sum(r.status == "skipped_duplicate" for r in reports)),
            "rows_read": dg.MetadataValue.int(sum(r.rows_read for r in reports)),
            "rows_loaded": dg.MetadataValue.int(sum(r.rows_loaded for r in reports)),
            "rows_quarantined": dg.MetadataValue.int(sum(r.rows_quarantined for r in reports)),
            "cells_quarantined": dg.MetadataValue.int(sum(r.cells_quarantined for r in reports)),
            "files_rejected": dg.MetadataValue.int(sum(r.status == "rejected" for r in reports)),
            "rejected": dg.MetadataValue.text(
                "; ".join(f"{r.file}: {r.message}" for r in reports if r.status == "rejected") or "none"
            ),
            "per_file": dg.MetadataValue.md(
                "| file | status | read | loaded | quarantined |\n|---|---|---|---|---|\n" + table
            ),
        }
    )


def _load(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    landing: LandingFolder,
    pseudonym_key: PseudonymKeyResource,
    source: str,
    wave: str | None = None,
) -> dg.MaterializeResult:
    # A run over every partition (`gradtrack run`, a full backfill) loads every file, whatever its cohort.
    cohorts: list[int] | None = run_cohorts(context)  # a key or, in a backfill run, a range of keys
    if cohorts and covers_every_cohort(cohorts):
        cohorts = None
    if cohorts:
        context.log.info(f"Cohort(s) {cohorts}: files with rows of other cohorts are left for their runs")
    ignored: list[tuple[str, str]] = []
    with duckdb.get_connection() as con:
        if source == "register":  # the first step of every run that loads: files no source reads
            ignored = log_ignored(con, landing.root)
        # One school's unreadable file is rejected and recorded (audit.load_log status `rejected`);
        # every other file still loads, and `gradtrack run` ends with its "rejected files" exit code.
        reports = load_source(
            con,
            landing.root,
            source,
            pseudonym_key.get(),
            wave=wave,
            cohorts=cohorts,
            raise_on_failure=False,
            max_shrink=None if landing.accept_shrink else settings.max_shrink(),
        )
    for file, why in ignored:
        context.log.warning(f"{file}: ignored, not read by any source: {why}")
    for r in reports:
        if r.status == "other_cohort":
            continue
        if r.status == "rejected":
            context.log.warning(f"{r.file}: rejected, nothing of it loaded: {r.message}")
            continue
        context.log.info(
            f"{r.file}: {r.status}, read {r.rows_read}, loaded {r.rows_loaded}, "
            f"quarantined {r.rows_quarantined}" + (f" ({r.message})" if r.message else "")
        )
    result = _result(reports)
    if source == "register":
        listed = "\n".join(f"| {f} | {why} |" for f, why in ignored)
        result.metadata["ignored_files"] = dg.MetadataValue.md(
            "| file | why it is not read |\n|---|---|\n" + listed if ignored else "none"
        )
    return result


COHORT_ASSET = {
    "group_name": GROUP,
    "kinds": {"duckdb", "csv"},
    "partitions_def": cohort_partitions,
    "backfill_policy": single_run,
    "pool": WAREHOUSE_POOL,
}
SPANNING_ASSET = {"group_name": GROUP, "kinds": {"duckdb", "csv"}, "pool": WAREHOUSE_POOL}


@dg.asset(key=["raw", "register"], **COHORT_ASSET)
def register(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    landing: LandingFolder,
    pseudonym_key: PseudonymKeyResource,
) -> dg.MaterializeResult:
    """The graduate register: the population every indicator is a share of."""
    return _load(context, duckdb, landing, pseudonym_key, "register")


def _survey_asset(wave: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", f"survey_{wave}"],
        **COHORT_ASSET,
        deps=[register],  # duplicate checks and linkage need the register loaded first
        description=f"Survey responses of the {wave} wave (canonical and mapped exports).",
    )
    def _asset(
        context: dg.AssetExecutionContext,
        duckdb: DuckDBResource,
        landing: LandingFolder,
        pseudonym_key: PseudonymKeyResource,
    ) -> dg.MaterializeResult:
        return _load(context, duckdb, landing, pseudonym_key, "survey", wave)

    return _asset


surveys = [_survey_asset(w) for w in WAVES]


@dg.asset(key=["raw", "employment_spells"], **SPANNING_ASSET, deps=[register])
def employment_spells(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    landing: LandingFolder,
    pseudonym_key: PseudonymKeyResource,
) -> dg.MaterializeResult:
    """Administrative employment spells (social security / tax register; es_tgss adapter)."""
    return _load(context, duckdb, landing, pseudonym_key, "admin")


@dg.asset(key=["raw", "context_indicators"], **SPANNING_ASSET, deps=[register])
def context_indicators(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    landing: LandingFolder,
    pseudonym_key: PseudonymKeyResource,
) -> dg.MaterializeResult:
    """Context indicators such as regional unemployment (recommendation 11)."""
    return _load(context, duckdb, landing, pseudonym_key, "context")


assets = [register, *surveys, employment_spells, context_indicators]
