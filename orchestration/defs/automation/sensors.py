"""The landing sensor: a file that lands starts the run of its cohort and wave, once.

The cursor remembers every landing file's size and modification time, so a file triggers once and a
re-sent file (same name, new content) triggers again. Files younger than a settle time are left for
the next tick, in case they are still being copied.
"""

import json
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from ingestion.arrivals import Arrival, new_arrivals
from orchestration import settings
from orchestration.defs.automation.schedules import built_on
from orchestration.defs.partitions import RANGE_END, RANGE_START, cohort_partitions

if TYPE_CHECKING:
    from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph

INPUT_ASSET = {
    ("register", None): ["raw", "register"],
    ("survey", "pre_graduation"): ["raw", "survey_pre_graduation"],
    ("survey", "m6"): ["raw", "survey_m6"],
    ("survey", "m18"): ["raw", "survey_m18"],
    ("admin", None): ["raw", "employment_spells"],
    ("context", None): ["raw", "context_indicators"],
}


def run_requests(
    arrivals: list[Arrival], every_cohort: list[str], graph: "BaseAssetGraph"
) -> list[dg.RunRequest]:
    """One run per (input asset, cohort); files spanning cohorts (admin, context, or a file whose
    cohorts could not be read, so that its run reports the problem) run over every cohort at once.
    A register or survey file without rows starts nothing."""
    groups: dict[tuple[tuple[str, ...], str | None], list[Arrival]] = defaultdict(list)
    for arrival in arrivals:
        if arrival.source in ("register", "survey") and not (
            arrival.cohorts or arrival.problem or arrival.undated
        ):
            continue  # a header without rows: nothing to load for any cohort
        key = tuple(INPUT_ASSET[(arrival.source, arrival.wave)])
        for cohort in [str(c) for c in arrival.cohorts if str(c) in every_cohort] or [None]:
            groups[(key, cohort)].append(arrival)
    requests = []
    for (key, cohort), files in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] or "")):
        selection = sorted(built_on(list(key)).resolve(graph))
        tags = {"gradtrack/files": ", ".join(a.path for a in files)[:4000]}
        run_key = "|".join(f"{a.path}@{a.signature}" for a in files) + f"#{cohort or 'all'}"
        if cohort is None:
            tags |= {RANGE_START: every_cohort[0], RANGE_END: every_cohort[-1]}
        requests.append(
            dg.RunRequest(
                run_key=run_key,
                asset_selection=selection,
                partition_key=cohort,
                tags=tags,
            )
        )
    return requests


@dg.sensor(
    name="landing_sensor",
    target=dg.AssetSelection.all(),
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,  # an operator turns it on for their landing folder
    description="Starts the run of the cohort and wave of each file that lands in GRADTRACK_LANDING.",
)
def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    landing = Path(settings.LANDING.get_value() or "")
    if not landing.is_dir():
        return dg.SkipReason(f"landing folder {str(landing)!r} does not exist (GRADTRACK_LANDING)")
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    arrivals = new_arrivals(landing, seen)
    if not arrivals:
        return dg.SkipReason(f"no new file in {landing}")
    for arrival in arrivals:
        context.log.info(
            f"{arrival.path}: {arrival.source} {arrival.wave or ''} cohorts {list(arrival.cohorts)}"
            + (f" (unreadable: {arrival.problem})" if arrival.problem else "")
        )
    every_cohort = cohort_partitions.get_partition_keys()
    requests = run_requests(arrivals, every_cohort, context.repository_def.asset_graph)
    seen |= {a.path: a.signature for a in arrivals}
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))
