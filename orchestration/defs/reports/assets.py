"""The report site as a Dagster asset: a thin wrapper over `reports.site.build_site`.

Partitioned by cohort like the marts it reads: a partition's run re-renders that cohort's folder
(school reports, student summaries, policy report, exports) and the index; other cohorts' folders
stay as they are.

A page that cannot render on some data does not stop the site: every other page is written, the
failures are listed in the materialization's metadata and the non-blocking check
``all_pages_rendered`` fails, naming page, group and error. The warehouse is not affected.
"""

from pathlib import Path

import dagster as dg

from ingestion.building import rebuilt_folder
from orchestration import settings
from orchestration.defs.partitions import WAREHOUSE_POOL, cohort_partitions, run_cohorts, single_run
from orchestration.defs.warehouse.resources import WarehouseDuckDB

# The marts the pages and exports read (reports/disclosure.py, reports/exports.py).
REPORT_INPUTS = [
    ["marts", "indicators"],
    ["marts", "plan_status_transitions"],
    ["marts", "fct_survey_responses"],
    ["marts", "dim_graduate"],
    ["marts", "dim_school"],
    ["staging", "stg_context__indicators"],  # region names and context figures
]


class ReportsFolder(dg.ConfigurableResource):
    """Where the rendered site goes (`gradtrack run --reports`, default beside the warehouse)."""

    path: str


SITE_KEY = dg.AssetKey(["reports", "site"])
ALL_PAGES_RENDERED = "all_pages_rendered"


@dg.asset(
    key=SITE_KEY,
    deps=REPORT_INPUTS,
    group_name="reports",
    kinds={"html", "xlsx"},
    partitions_def=cohort_partitions,
    backfill_policy=single_run,
    pool=WAREHOUSE_POOL,
    description="School reports, student summaries in five languages, the policy report and "
    "per-school raw data exports, after disclosure control; index.html links them all.",
    check_specs=[
        dg.AssetCheckSpec(
            ALL_PAGES_RENDERED,
            asset=SITE_KEY,
            blocking=False,
            description="Every page and export of the run's cohorts was written (a page that "
            "fails is named with its school and error; the rest of the site is written anyway).",
        )
    ],
)
def report_site(
    context: dg.AssetExecutionContext, duckdb: WarehouseDuckDB, reports_folder: ReportsFolder
) -> dg.MaterializeResult:
    from reports.disclosure import Policy
    from reports.site import build_site

    out = Path(reports_folder.path)
    cohorts = run_cohorts(context)
    policy = Policy(threshold=settings.publication_threshold(), rounding_base=settings.rounding_base())
    # Written into a copy of the site and swapped in whole: a failed or killed run leaves the last
    # site with every link working.
    with rebuilt_folder(out) as staging:
        build = build_site(duckdb.read_database(), staging, cohorts=cohorts, policy=policy)
    pages = [p for p in build.written if p.suffix == ".html"]
    exports = [p for p in build.written if p.suffix in (".csv", ".xlsx")]
    context.log.info(f"{len(pages)} pages and {len(exports)} exports of cohorts {cohorts} written to {out}")
    failures = [str(f) for f in build.failures]
    for failure in failures:
        context.log.error(f"report not written: {failure}")
    listing = "\n".join(f"- {f}" for f in failures) or "none"
    return dg.MaterializeResult(
        metadata={
            "index": dg.MetadataValue.path(str(out / "index.html")),
            "pages": dg.MetadataValue.int(len(pages)),
            "exports": dg.MetadataValue.int(len(exports)),
            "failures": dg.MetadataValue.int(len(failures)),
            "failed_pages": dg.MetadataValue.md(listing),
            "publication_threshold": dg.MetadataValue.int(policy.threshold),
            "rounding_base": dg.MetadataValue.int(policy.rounding_base),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=ALL_PAGES_RENDERED,
                passed=not failures,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "failures": dg.MetadataValue.md(listing),
                    "failed_pages": dg.MetadataValue.json(failures),  # one item per page, for the CLI
                },
            )
        ],
    )
