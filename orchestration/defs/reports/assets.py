"""The report site as a Dagster asset: a thin wrapper over `reports.site.build_site`.

Partitioned by cohort like the marts it reads: a partition's run re-renders that cohort's folder
(school reports, student summaries, policy report, exports) and the index; other cohorts' folders
stay as they are.
"""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration import settings
from orchestration.defs.partitions import WAREHOUSE_POOL, cohort_partitions, run_cohorts, single_run

# The marts the pages and exports read (reports/disclosure.py, reports/exports.py).
REPORT_INPUTS = [
    ["marts", "indicators"],
    ["marts", "plan_status_transitions"],
    ["marts", "fct_survey_responses"],
    ["marts", "dim_graduate"],
    ["marts", "dim_school"],
]


class ReportsFolder(dg.ConfigurableResource):
    """Where the rendered site goes (`gradtrack run --reports`, default beside the warehouse)."""

    path: str


@dg.asset(
    key=["reports", "site"],
    deps=REPORT_INPUTS,
    group_name="reports",
    kinds={"html", "xlsx"},
    partitions_def=cohort_partitions,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
    description="School reports, student summaries in five languages, the policy report and "
    "per-school raw data exports, after disclosure control; index.html links them all.",
)
def report_site(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, reports_folder: ReportsFolder
) -> dg.MaterializeResult:
    from reports.site import build_site

    out = Path(reports_folder.path)
    cohorts = run_cohorts(context)
    written = build_site(
        Path(duckdb.database), out, cohorts=cohorts, threshold=settings.suppression_threshold()
    )
    pages = [p for p in written if p.suffix == ".html"]
    exports = [p for p in written if p.suffix in (".csv", ".xlsx")]
    context.log.info(f"{len(pages)} pages and {len(exports)} exports of cohorts {cohorts} written to {out}")
    return dg.MaterializeResult(
        metadata={
            "index": dg.MetadataValue.path(str(out / "index.html")),
            "pages": dg.MetadataValue.int(len(pages)),
            "exports": dg.MetadataValue.int(len(exports)),
        }
    )
