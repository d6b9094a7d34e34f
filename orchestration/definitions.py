"""The Dagster code location of gradtrack: `dagster dev`, `dg dev` and `gradtrack run` load this."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration import settings
from orchestration.defs.automation.schedules import schedules
from orchestration.defs.automation.sensors import landing_sensor
from orchestration.defs.ingestion.assets import assets as ingestion_assets
from orchestration.defs.ingestion.resources import LandingFolder, PseudonymKeyResource
from orchestration.defs.quality.checks import checks as quality_checks
from orchestration.defs.reports.assets import ReportsFolder, report_site
from orchestration.defs.warehouse.analyst import AnalystDatabase, analyst_database_asset
from orchestration.defs.warehouse.assets import restricted_identifiers, warehouse_models
from orchestration.defs.warehouse.project import DBT_EXECUTABLE, dbt_project
from orchestration.defs.warehouse.resources import WarehouseDuckDB
from orchestration.progress import progress_logger

# The analyst copy waits for every mart and seed (and so for the blocking checks on them).
analyst_database = analyst_database_asset(
    [key for key in warehouse_models.keys if key.path[0] in ("marts", "reference")]
)

defs = dg.Definitions(
    assets=[*ingestion_assets, *restricted_identifiers, warehouse_models, report_site, analyst_database],
    asset_checks=quality_checks,
    schedules=schedules,
    sensors=[landing_sensor],
    resources={
        # Builds on a copy and publishes it when the run succeeds; a failed report site keeps it.
        "duckdb": WarehouseDuckDB(database=settings.WAREHOUSE, publish_despite=[report_site.op.name]),
        "landing": LandingFolder(path=settings.LANDING),
        "pseudonym_key": PseudonymKeyResource(),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE),
        "reports_folder": ReportsFolder(path=settings.REPORTS),
        "analyst": AnalystDatabase(path=settings.ANALYST_DATABASE),
    },
    loggers={"progress": progress_logger},
    # Steps run one after another in the run's process: DuckDB has a single writer, so parallel
    # steps would only wait for its lock. Runs are queued one at a time (orchestration/dagster.yaml).
    executor=dg.in_process_executor,
)
