"""dbt models as Dagster assets: keys by schema, groups by layer, dbt tests as asset checks."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.defs.warehouse.project import dbt_project

# Ingestion writes the restricted identifier tables together with the raw tables; they appear in
# the graph as specs downstream of the ingestion assets that write them.
restricted_identifiers = [
    dg.AssetSpec(
        key=["restricted", "register_identifiers"],
        deps=[["raw", "register"]],
        group_name="ingestion",
        description="Register identifiers for linkage (restricted); written by raw/register.",
        kinds={"duckdb"},
    ),
    dg.AssetSpec(
        key=["restricted", "survey_identifiers"],
        deps=[["raw", "survey_pre_graduation"], ["raw", "survey_m6"], ["raw", "survey_m18"]],
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


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=translator)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """`dbt build`: models, seeds, unit tests and data tests, streamed as Dagster events."""
    yield from dbt.cli(["build"], context=context).stream()
