"""Cohort partitions: one partition per graduation year, shared by every cohort-shaped asset.

A cohort's register, its three survey waves, its dbt models and its reports are one partition
("2019"). Admin employment spells and context rates span cohorts and stay unpartitioned. Every
partitioned asset runs a backfill as ONE run over the whole range (`BackfillPolicy.single_run`):
DuckDB has a single writer and dbt builds a set of cohorts in one `dbt build` as fast as one.
"""

import warnings

import dagster as dg

FIRST_COHORT = 2010  # the oldest graduation year an operator can select or backfill

# The partition of year Y opens on 1 January of Y (`end_offset=1`): a cohort is selectable from the
# start of its graduation year, when the pre-graduation survey of March is due.
cohort_partitions = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", fmt="%Y", start=str(FIRST_COHORT), end_offset=1
)

# Beta in Dagster 1.13, but the documented way to run a range as one run: silence its BetaWarning at
# every decorator that passes it, so operators' terminals show only what concerns them.
single_run = dg.BackfillPolicy.single_run()
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)

# Run tags of one run over a range of partitions: what a single-run backfill launches, and what
# `gradtrack run --cohort` and the landing sensor use for runs over several cohorts.
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"

# Every step that writes or reads the DuckDB file takes a slot of this pool (limit 1 in
# orchestration/dagster.yaml), so two runs never hold the file at once.
WAREHOUSE_POOL = "duckdb_warehouse"


def run_cohorts(context: dg.AssetExecutionContext) -> list[int]:
    """The graduation years a partitioned step was asked to build (one key or a backfill range)."""
    return [int(key) for key in context.partition_keys]


def covers_every_cohort(cohorts: list[int]) -> bool:
    """True when a run spans every partition: it then rebuilds from scratch (dbt `--full-refresh`)."""
    return {str(c) for c in cohorts} >= set(cohort_partitions.get_partition_keys())
