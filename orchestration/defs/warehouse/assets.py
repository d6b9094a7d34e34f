"""dbt models as Dagster assets: keys by schema, groups by layer, dbt tests as asset checks.

The models are partitioned by cohort like the ingestion they read: a partition's run passes its
graduation years to dbt as the `cohorts` var, and the cohort-shaped tables replace only those
cohorts' rows (incremental, see dbt_project/macros/cohorts.sql). A run over every partition, or one
asked for it, rebuilds from scratch with `--full-refresh`.
"""

import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration import settings
from orchestration.defs.partitions import (
    WAREHOUSE_POOL,
    cohort_partitions,
    covers_every_cohort,
    run_cohorts,
    single_run,
)
from orchestration.defs.warehouse.project import dbt_project

# Ingestion writes the restricted identifier tables together with the raw tables; they appear in
# the graph as specs downstream of the ingestion assets that write them.
restricted_identifiers = [
    dg.AssetSpec(
        key=["restricted", "register_identifiers"],
        deps=[["raw", "register"]],
        partitions_def=cohort_partitions,
        group_name="ingestion",
        description="Register identifiers for linkage (restricted); written by raw/register.",
        kinds={"duckdb"},
    ),
    dg.AssetSpec(
        key=["restricted", "survey_identifiers"],
        deps=[["raw", "survey_pre_graduation"], ["raw", "survey_m6"], ["raw", "survey_m18"]],
        partitions_def=cohort_partitions,
        group_name="ingestion",
        description="Identifiers respondents gave (restricted); written by the survey assets.",
        kinds={"duckdb"},
    ),
]


class GradtrackTranslator(DagsterDbtTranslator):
    """Models keyed [schema, model] (e.g. marts/indicators); sources keyed like ingestion assets."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            source, table = dbt_resource_props["source_name"], dbt_resource_props["name"]
            return dg.AssetKey([source, table])
        schema = dbt_resource_props.get("config", {}).get("schema") or "main"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("config", {}).get("schema") or "warehouse"


translator = GradtrackTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


class DbtBuildConfig(dg.Config):
    """Launchpad options of the dbt step."""

    full_refresh: bool = False  # rebuild every table from scratch, all cohorts (after a model change)


def dbt_build_args(cohorts: list[int], full_refresh: bool, threshold: int) -> list[str]:
    """The `dbt build` command line of a run over these cohorts.

    dbt unit tests check the models' logic on fixed inputs, not the data: they belong to `make test`
    (tests/test_dbt_unit_tests.py), not to every yearly run, where they cost minutes.
    """
    full = full_refresh or covers_every_cohort(cohorts)
    variables = {"suppression_threshold": threshold, "cohorts": [] if full else sorted(cohorts)}
    return [
        "build",
        "--vars",
        json.dumps(variables),
        "--exclude",
        "resource_type:unit_test",
        *(["--full-refresh"] if full else []),
    ]


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    partitions_def=cohort_partitions,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
    """`dbt build` of the run's cohorts: models, seeds and data tests, streamed as Dagster events.

    Row counts of tables are fetched after dbt has closed the DuckDB file (dagster-dbt waits for
    DuckDB's single writer), so every mart reports `dagster/row_count`.
    """
    args = dbt_build_args(run_cohorts(context), config.full_refresh, settings.suppression_threshold())
    context.log.info(f"dbt {' '.join(args)}")
    try:
        yield from dbt.cli(args, context=context).stream().fetch_row_counts()
    finally:
        _release_warehouse_file()


def _release_warehouse_file() -> None:
    """dagster-dbt counts rows through dbt's DuckDB adapter in this process, and that adapter keeps
    the file open in a class-level environment; close it, or the asset checks and reports of the
    same run cannot open the warehouse ("different configuration than existing connections")."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None
