"""The Dagster code location of gradtrack: `dagster dev`, `dg dev` and `gradtrack run` load this."""

from __future__ import annotations

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration import settings
from orchestration.defs.ingestion.assets import assets as ingestion_assets
from orchestration.defs.ingestion.resources import LandingFolder, PseudonymKeyResource

defs = dg.Definitions(
    assets=[*ingestion_assets],
    resources={
        "duckdb": DuckDBResource(database=settings.WAREHOUSE),
        "landing": LandingFolder(path=settings.LANDING),
        "pseudonym_key": PseudonymKeyResource(),
    },
)
