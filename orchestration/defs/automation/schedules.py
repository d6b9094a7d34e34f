"""Yearly wave schedules: each wave of the cohort it is due for, on the day the calendar says.

The schedules tick daily and read the wave calendar (`GRADTRACK_WAVE_DATES`) at each tick, so a
region changes its fieldwork dates without a redeploy. A wave stays due for a catch-up window; the
run key `<wave>-<cohort>` makes it start once per cohort even though it is due on several ticks.
"""

import dagster as dg

from ingestion.contract import WAVES
from orchestration import settings

WAVE_INPUTS: dict[str, list[list[str]]] = {
    # The register arrives with the pre-graduation survey; later waves refresh admin spells and
    # context rates (re-sending an already loaded file is a cheap no-op: same content hash).
    "pre_graduation": [["raw", "register"], ["raw", "survey_pre_graduation"]],
    "m6": [
        ["raw", "register"],
        ["raw", "survey_m6"],
        ["raw", "employment_spells"],
        ["raw", "context_indicators"],
    ],
    "m18": [
        ["raw", "register"],
        ["raw", "survey_m18"],
        ["raw", "employment_spells"],
        ["raw", "context_indicators"],
    ],
}


def built_on(*inputs: list[str]) -> dg.AssetSelection:
    """These input assets and everything built on them (dbt models, reports), but no other input:
    other raw assets hang off the register too, and their files belong to other waves."""
    selected = dg.AssetSelection.assets(*inputs)
    return selected | (selected.downstream() - dg.AssetSelection.key_prefixes("raw")).materializable()


def wave_selection(wave: str) -> dg.AssetSelection:
    return built_on(*WAVE_INPUTS[wave])


def _wave_schedule(wave: str) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"{wave}_wave",
        cron_schedule="0 6 * * *",
        target=wave_selection(wave),
        description=f"Runs the {wave} survey wave of the cohort it is due for (GRADTRACK_WAVE_DATES).",
        default_status=dg.DefaultScheduleStatus.STOPPED,  # an operator turns the yearly cycle on
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        calendar = settings.wave_calendar()
        today = context.scheduled_execution_time.date()
        cohort = calendar.cohort_due(wave, today)
        if cohort is None:
            due, next_cohort = calendar.next_due(wave, today)
            return dg.SkipReason(f"{wave} is next due on {due:%Y-%m-%d} (cohort {next_cohort})")
        return dg.RunRequest(
            run_key=f"{wave}-{cohort}",
            partition_key=str(cohort),
            tags={"gradtrack/wave": wave, "gradtrack/cohort": str(cohort)},
        )

    return _schedule


schedules = [_wave_schedule(wave) for wave in WAVES]
