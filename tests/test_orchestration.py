"""Orchestration without running the pipeline: cohort partitions, wave schedules evaluated for given
dates, the landing sensor over a real landing folder, and the instance's concurrency limits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import pytest

from ingestion.arrivals import new_arrivals, place
from ingestion.sample import generate
from ingestion.waves import WaveCalendar
from orchestration.defs.automation.schedules import schedules
from orchestration.defs.automation.sensors import landing_sensor
from orchestration.defs.partitions import RANGE_END, RANGE_START, WAREHOUSE_POOL, cohort_partitions
from orchestration.defs.warehouse.assets import dbt_build_args
from tests.conftest import ROOT, gradtrack_env

SCHEDULES = {s.name: s for s in schedules}
LONG_AGO = time.time() - 3600  # files the sensor considers settled


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    from orchestration.definitions import defs

    return defs


# --------------------------------------------------------------------------- partitions


def test_cohort_partitions_are_graduation_years_up_to_this_year():
    keys = cohort_partitions.get_partition_keys(current_time=datetime(2026, 3, 1))
    assert keys[0] == "2010" and keys[-1] == "2026"
    assert keys == [str(y) for y in range(2010, 2027)]


def test_dbt_builds_the_run_cohorts_incrementally_and_everything_from_scratch():
    one = dbt_build_args([2020], full_refresh=False, threshold=5)
    assert one[:2] == ["build", "--vars"] and "--full-refresh" not in one
    assert json.loads(one[2]) == {"suppression_threshold": 5, "cohorts": [2020]}
    every = [int(k) for k in cohort_partitions.get_partition_keys()]
    full = dbt_build_args(every, full_refresh=False, threshold=7)
    assert "--full-refresh" in full and json.loads(full[2]) == {"suppression_threshold": 7, "cohorts": []}
    assert "--full-refresh" in dbt_build_args([2020], full_refresh=True, threshold=5)
    # Unit tests run in `make test` (test_dbt_unit_tests.py), not in a production run.
    assert one[one.index("--exclude") + 1] == "resource_type:unit_test"


def test_cohort_shaped_assets_are_partitioned_and_spanning_inputs_are_not(defs):
    graph = defs.resolve_asset_graph()
    partitioned = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).is_partitioned}
    assert {"raw/register", "raw/survey_m6", "marts/indicators", "marts/dim_graduate", "reports/site"} <= (
        partitioned
    )
    assert {"raw/employment_spells", "raw/context_indicators"}.isdisjoint(partitioned)


def test_every_step_touching_the_warehouse_takes_the_duckdb_pool(defs):
    graph = defs.resolve_asset_graph()
    executable = [graph.get(k) for k in graph.get_all_asset_keys() if graph.get(k).is_executable]
    assert executable
    assert {node.pools and tuple(node.pools) for node in executable} == {(WAREHOUSE_POOL,)}
    for check in defs.asset_checks or []:
        assert check.node_def.pool == WAREHOUSE_POOL, check


def test_instance_config_queues_runs_one_at_a_time(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_bytes((ROOT / "orchestration" / "dagster.yaml").read_bytes())
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        config = instance.get_concurrency_config()
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert config.run_queue_config.max_concurrent_runs == 1
        assert config.pool_config.default_pool_limit == 1
    finally:
        instance.dispose()


# --------------------------------------------------------------------------- waves and schedules


def test_wave_calendar_defaults_and_overrides():
    default = WaveCalendar.parse("")
    assert default.due_date("pre_graduation", 2026) == date(2026, 3, 1)
    assert default.due_date("m6", 2025) == date(2026, 1, 15)
    assert default.due_date("m18", 2024) == date(2026, 1, 15)
    custom = WaveCalendar.parse("m6=02-10, catch_up_days=3")
    assert custom.due_date("m6", 2025) == date(2026, 2, 10)
    assert custom.cohort_due("m6", date(2026, 2, 12)) == 2025
    assert custom.cohort_due("m6", date(2026, 2, 13)) is None
    assert custom.next_due("m6", date(2026, 2, 13)) == (date(2027, 2, 10), 2026)
    for bad in ("m7=01-01", "m6=13-01", "m6=02-29", "m6", "catch_up_days=0"):
        with pytest.raises(ValueError):
            WaveCalendar.parse(bad)


def _evaluate(name: str, when: datetime) -> dg.RunRequest | dg.SkipReason:
    context = dg.build_schedule_context(scheduled_execution_time=when)
    return SCHEDULES[name](context)


@pytest.mark.parametrize(
    ("name", "when", "cohort"),
    [
        ("pre_graduation_wave", datetime(2026, 3, 1, 6), "2026"),
        ("pre_graduation_wave", datetime(2026, 3, 20, 6), "2026"),  # catch-up window
        ("m6_wave", datetime(2026, 1, 15, 6), "2025"),
        ("m18_wave", datetime(2026, 1, 15, 6), "2024"),
        ("m18_wave", datetime(2021, 2, 1, 6), "2019"),
    ],
)
def test_schedule_starts_the_wave_of_the_cohort_it_is_due_for(monkeypatch, name, when, cohort):
    monkeypatch.delenv("GRADTRACK_WAVE_DATES", raising=False)
    request = _evaluate(name, when)
    assert isinstance(request, dg.RunRequest), request
    assert request.partition_key == cohort
    wave = name.removesuffix("_wave")
    assert request.run_key == f"{wave}-{cohort}"  # the same wave of a cohort starts once
    assert request.tags["gradtrack/wave"] == wave


@pytest.mark.parametrize(
    ("name", "when", "next_due"),
    [
        ("pre_graduation_wave", datetime(2026, 2, 28, 6), "2026-03-01 (cohort 2026)"),
        ("pre_graduation_wave", datetime(2026, 4, 15, 6), "2027-03-01 (cohort 2027)"),
        ("m6_wave", datetime(2026, 3, 1, 6), "2027-01-15 (cohort 2026)"),
        ("m18_wave", datetime(2026, 7, 1, 6), "2027-01-15 (cohort 2025)"),
    ],
)
def test_schedule_skips_when_no_wave_is_due_and_says_when_it_is(monkeypatch, name, when, next_due):
    monkeypatch.delenv("GRADTRACK_WAVE_DATES", raising=False)
    skip = _evaluate(name, when)
    assert isinstance(skip, dg.SkipReason)
    assert next_due in (skip.skip_message or "")


def test_schedule_reads_the_wave_dates_at_tick_time(monkeypatch):
    monkeypatch.setenv("GRADTRACK_WAVE_DATES", "m6=02-01")
    assert isinstance(_evaluate("m6_wave", datetime(2026, 1, 20, 6)), dg.SkipReason)
    request = _evaluate("m6_wave", datetime(2026, 2, 1, 6))
    assert isinstance(request, dg.RunRequest) and request.partition_key == "2025"


def test_each_schedule_runs_its_wave_and_what_is_built_on_it(defs):
    graph = defs.resolve_asset_graph()
    for wave in ("pre_graduation", "m6", "m18"):
        job = defs.resolve_job_def(SCHEDULES[f"{wave}_wave"].job_name)
        keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
        assert {f"raw/survey_{wave}", "marts/indicators", "reports/site"} <= keys, wave
        others = {f"raw/survey_{w}" for w in ("pre_graduation", "m6", "m18") if w != wave}
        assert not keys & others, wave
    assert graph  # the definitions resolve


# --------------------------------------------------------------------------- landing sensor


@pytest.fixture(scope="module")
def sample_landing(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("sensor") / "landing"
    generate(landing, graduates=40, cohorts=[2019, 2020], seed=3)
    for path in landing.rglob("*"):
        os.utime(path, (LONG_AGO, LONG_AGO))
    return landing


def test_landing_paths_map_to_sources_and_waves():
    assert place("register/a_2019.csv") == ("register", None)
    assert place("surveys/m6/x.csv") == ("survey", "m6")
    assert place("admin/es_tgss.txt") == ("admin", None)
    assert place("surveys/m7/x.csv") is None
    assert place("surveys/m6/x.yaml") is None  # a mapping file is read with its export, not alone
    assert place("notes/readme.csv") is None


def _tick(defs: dg.Definitions, landing: Path, cursor: str | None, monkeypatch) -> dg.SensorResult:
    monkeypatch.setenv("GRADTRACK_LANDING", str(landing))
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
        return landing_sensor(context)


def test_sensor_starts_one_run_per_cohort_and_wave_then_nothing(defs, sample_landing, monkeypatch):
    result = _tick(defs, sample_landing, None, monkeypatch)
    assert isinstance(result, dg.SensorResult)
    requests = result.run_requests or []
    by_input: dict[tuple[str, str | None], dg.RunRequest] = {}
    for request in requests:
        inputs = {k.to_user_string() for k in request.asset_selection or [] if k.path[0] == "raw"}
        root = min(inputs, key=lambda k: ("register" not in k, k))  # the input the file arrived for
        by_input[(root, request.partition_key)] = request
    for cohort in ("2019", "2020"):
        for asset in ("raw/register", "raw/survey_pre_graduation", "raw/survey_m6", "raw/survey_m18"):
            assert (asset, cohort) in by_input, (asset, cohort, sorted(by_input))
    # Admin spells span cohorts: one run over every cohort partition (a single-run range).
    admin = [r for r in requests if r.partition_key is None]
    assert admin and all(r.tags[RANGE_START] == "2010" for r in admin)
    assert all(r.tags[RANGE_END] == cohort_partitions.get_partition_keys()[-1] for r in admin)
    # A survey run rebuilds what is downstream of that wave, not the other waves' inputs.
    m6 = by_input[("raw/survey_m6", "2020")]
    selected = {k.to_user_string() for k in m6.asset_selection or []}
    assert {"marts/indicators", "reports/site"} <= selected
    assert "raw/survey_m18" not in selected and "raw/register" not in selected
    assert len({r.run_key for r in requests}) == len(requests)

    # The cursor remembers every file: the next tick starts nothing.
    again = _tick(defs, sample_landing, result.cursor, monkeypatch)
    assert isinstance(again, dg.SkipReason), again


def test_sensor_triggers_for_a_resent_file_and_waits_for_a_file_still_being_written(
    defs, sample_landing, monkeypatch
):
    first = _tick(defs, sample_landing, None, monkeypatch)
    cursor = first.cursor
    # The register of one school sent again under the same name (a new modification time).
    register = sorted((sample_landing / "register").glob("*_2020.csv"))[0]
    register.write_bytes(register.read_bytes() + b"")  # same content, new modification time
    os.utime(register, (LONG_AGO + 60, LONG_AGO + 60))
    resent = _tick(defs, sample_landing, cursor, monkeypatch)
    assert isinstance(resent, dg.SensorResult)
    assert [r.partition_key for r in resent.run_requests or []] == ["2020"]
    assert register.relative_to(sample_landing).as_posix() in resent.run_requests[0].tags["gradtrack/files"]

    # A file written a moment ago may still be copying: left for a later tick.
    fresh = sample_landing / "surveys" / "m6" / "late_2019.csv"
    source = sorted((sample_landing / "surveys" / "m6").glob("*_2019.csv"))[0]
    fresh.write_bytes(source.read_bytes())
    try:
        waiting = _tick(defs, sample_landing, resent.cursor, monkeypatch)
        assert isinstance(waiting, dg.SkipReason)
        os.utime(fresh, (LONG_AGO, LONG_AGO))
        arrived = _tick(defs, sample_landing, resent.cursor, monkeypatch)
        assert [r.partition_key for r in arrived.run_requests or []] == ["2019"]
    finally:
        fresh.unlink()


def test_arrivals_read_cohorts_from_rows_including_mapped_exports(sample_landing):
    arrivals = new_arrivals(sample_landing, {})
    assert all(a.problem is None for a in arrivals), [a.problem for a in arrivals if a.problem]
    for arrival in arrivals:
        if arrival.source in ("register", "survey"):
            rows = len((sample_landing / arrival.path).read_bytes().splitlines()) - 1
            if rows == 0:  # a small school's wave without responses: a header only
                assert arrival.cohorts == (), arrival
                continue
            assert arrival.cohorts in ((2019,), (2020,)), arrival
            assert str(arrival.cohorts[0]) in arrival.path  # the sample names files <school>_<cohort>
        else:
            assert arrival.cohorts == ()
    mapped = [
        a
        for a in arrivals
        if a.path.startswith("surveys/") and (sample_landing / a.path).with_suffix(".yaml").exists()
    ]
    assert mapped, "the sample has a LimeSurvey export with a mapping file"


# --------------------------------------------------------------------------- one run per warehouse


def test_second_run_on_the_same_warehouse_waits_for_the_first(tmp_path):
    import fcntl

    warehouse = tmp_path / "wh" / "gradtrack.duckdb"
    warehouse.parent.mkdir()
    (tmp_path / "landing" / "register").mkdir(parents=True)
    # A landing folder with a file: an empty one is refused before the lock is taken.
    (tmp_path / "landing" / "register" / "es.csv").write_text("student_id,school_code\n")
    command = [
        str(Path(sys.executable).with_name("gradtrack")),
        "run",
        "--landing",
        str(tmp_path / "landing"),
    ]
    with (warehouse.parent / "gradtrack.duckdb.lock").open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a first run holds it
        proc = subprocess.Popen(
            [*command, "--warehouse", str(warehouse), "--skip-reports"],
            cwd=ROOT,
            env=gradtrack_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            line = proc.stdout.readline()
            if line.startswith("No warehouse at"):  # a first run says it starts a new warehouse
                line = proc.stdout.readline()
            assert "Another run is building" in line, line
            time.sleep(2)
            assert proc.poll() is None  # still waiting while the lock is held
            assert not (warehouse.parent / "gradtrack.building.duckdb").exists()
            fcntl.flock(held, fcntl.LOCK_UN)
            assert "has finished; starting" in proc.stdout.readline()
        finally:
            proc.kill()
            proc.wait()
