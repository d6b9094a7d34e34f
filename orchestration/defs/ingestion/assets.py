"""One asset per landing source: thin Dagster wrappers over `ingestion.loaders`.
Asset keys are ["raw", <table>] so that dbt's `source('raw', <table>)` attaches to them.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from ingestion.contract import WAVES
from ingestion.loaders import FileReport, LoadError, load_source
from orchestration.defs.ingestion.resources import LandingFolder, PseudonymKeyResource

GROUP = "ingestion"


def _result(reports: list[FileReport]) -> dg.MaterializeResult:
    loaded = [r for r in reports if r.status == "loaded"]
    table = "\n".join(
        f"| {r.file} | {r.status} | {r.rows_read} | {r.rows_loaded} | {r.rows_quarantined} |" for r in reports
    )
    return dg.MaterializeResult(
        metadata={
            "files": dg.MetadataValue.int(len(reports)),
            "files_loaded": dg.MetadataValue.int(len(loaded)),
            "files_skipped": dg.MetadataValue.int(sum(r.status == "skipped_duplicate" for r in reports)),
            "rows_read": dg.MetadataValue.int(sum(r.rows_read for r in reports)),
            "rows_loaded": dg.MetadataValue.int(sum(r.rows_loaded for r in reports)),
            "rows_quarantined": dg.MetadataValue.int(sum(r.rows_quarantined for r in reports)),
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
    with duckdb.get_connection() as con:
        try:
            reports = load_source(con, landing.root, source, pseudonym_key.get(), wave=wave)
        except LoadError as exc:
            raise dg.Failure(description=str(exc), metadata={"files": len(exc.reports)}) from exc
    for r in reports:
        context.log.info(
            f"{r.file}: {r.status}, read {r.rows_read}, loaded {r.rows_loaded}, "
            f"quarantined {r.rows_quarantined}" + (f" ({r.message})" if r.message else "")
        )
    return _result(reports)


@dg.asset(key=["raw", "register"], group_name=GROUP, kinds={"duckdb", "csv"})
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
        group_name=GROUP,
        kinds={"duckdb", "csv"},
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


@dg.asset(key=["raw", "employment_spells"], group_name=GROUP, kinds={"duckdb", "csv"}, deps=[register])
def employment_spells(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    landing: LandingFolder,
    pseudonym_key: PseudonymKeyResource,
) -> dg.MaterializeResult:
    """Administrative employment spells (social security / tax register; es_tgss adapter)."""
    return _load(context, duckdb, landing, pseudonym_key, "admin")


@dg.asset(key=["raw", "context_indicators"], group_name=GROUP, kinds={"duckdb", "csv"}, deps=[register])
def context_indicators(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    landing: LandingFolder,
    pseudonym_key: PseudonymKeyResource,
) -> dg.MaterializeResult:
    """Context indicators such as regional unemployment (recommendation 11)."""
    return _load(context, duckdb, landing, pseudonym_key, "context")


assets = [register, *surveys, employment_spells, context_indicators]
