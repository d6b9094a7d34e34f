"""dbt models as Dagster assets: keys by schema, groups by layer, dbt tests as asset checks.

The models are partitioned by cohort like the ingestion they read: a partition's run passes its
graduation years to dbt as the `cohorts` var, and the cohort-shaped tables replace only those
cohorts' rows (incremental, see dbt_project/macros/cohorts.sql). A run over every partition, or one
asked for it, rebuilds from scratch with `--full-refresh`.
"""

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from ingestion.db import quote_ident, quote_literal
from orchestration import settings
from orchestration.defs.partitions import (
    WAREHOUSE_POOL,
    cohort_partitions,
    covers_every_cohort,
    run_cohorts,
    single_run,
)
from orchestration.defs.warehouse.project import dbt_project
from orchestration.defs.warehouse.resources import WarehouseDuckDB

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
def warehouse_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb: WarehouseDuckDB, config: DbtBuildConfig
):
    """`dbt build` of the run's cohorts: models, seeds and data tests, streamed as Dagster events.

    Every table reports `dagster/row_count`. DuckDB has one writer, so the counts can only be read
    once dbt has closed the file; the events are held until then and the counts of all tables read
    in one query. (dagster-dbt's `fetch_row_counts()` waits the same way, but its wait spins a core
    for as long as dbt runs: about 60 CPU-s of a national build, taken from dbt's two threads.)
    """
    args = dbt_build_args(run_cohorts(context), config.full_refresh, settings.suppression_threshold())
    context.log.info(f"dbt {' '.join(args)}")
    # dbt's profile reads the warehouse path from GRADTRACK_WAREHOUSE: point it at the run's copy.
    with _environment(GRADTRACK_WAREHOUSE=str(duckdb.working_database())):
        # Not raising inside the stream: a failed model or test must not lose the others' events.
        invocation = dbt.cli(args, context=context, raise_on_error=False)
        events = list(invocation.stream())
    tables = {
        uid: rel for uid in map(_unique_id, events) if uid and (rel := _table_of(invocation.manifest, uid))
    }
    counts = table_row_counts(duckdb, tables)
    for event in events:
        n = counts.get(_unique_id(event) or "")
        if n is not None:
            event = event.with_metadata({**event.metadata, "dagster/row_count": dg.MetadataValue.int(n)})
        yield event
    if not invocation.is_successful():
        raise invocation.get_error() or RuntimeError(f"dbt {args[0]} failed")


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """These environment variables for the subprocesses started meanwhile, then as they were."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _unique_id(event: Any) -> str | None:
    """The dbt node an Output or AssetMaterialization event is about."""
    if isinstance(event, dg.Output | dg.AssetMaterialization):
        unique_id = event.metadata.get("unique_id")
        if isinstance(unique_id, dg.TextMetadataValue):
            return unique_id.value
    return None


def _table_of(manifest: Mapping[str, Any], unique_id: str) -> tuple[str, str] | None:
    """(schema, table) of a dbt node stored as a table; None for views (counting one runs its query)."""
    node = manifest["nodes"].get(unique_id)
    if node and node["config"].get("materialized") in ("table", "incremental", "seed"):
        return node["schema"], node.get("alias") or node["name"]
    return None


def table_row_counts(duckdb: WarehouseDuckDB, relations: dict[str, tuple[str, str]]) -> dict[str, int]:
    """Row counts of these tables, in one query."""
    if not relations:
        return {}
    union = " union all ".join(
        f"select {quote_literal(uid)}, count(*) from {quote_ident(schema)}.{quote_ident(table)}"
        for uid, (schema, table) in relations.items()
    )
    with duckdb.get_connection() as con:
        return {uid: int(n) for uid, n in con.execute(union).fetchall()}
