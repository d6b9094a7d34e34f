"""The Dagster code location of gradtrack: `dagster dev`, `dg dev` and `gradtrack run` load this."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from orchestration import settings
from orchestration.defs.ingestion.assets import assets as ingestion_assets
from orchestration.defs.ingestion.resources import LandingFolder, PseudonymKeyResource
from orchestration.defs.quality.checks import checks as quality_checks
from orchestration.defs.reports.assets import ReportsFolder, report_site
from orchestration.defs.warehouse.assets import restricted_identifiers, warehouse_models
from orchestration.defs.warehouse.project import DBT_EXECUTABLE, dbt_project
from orchestration.progress import progress_logger

defs = dg.Definitions(
    assets=[*ingestion_assets, *restricted_identifiers, warehouse_models, report_site],
    asset_checks=quality_checks,
    resources={
        "duckdb": DuckDBResource(database=settings.WAREHOUSE),
        "landing": LandingFolder(path=settings.LANDING),
        "pseudonym_key": PseudonymKeyResource(),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE),
        "reports_folder": ReportsFolder(path=settings.REPORTS),
    },
    loggers={"progress": progress_logger},
)
