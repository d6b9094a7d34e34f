"""Cohort partitions end to end: a backfill of two cohorts, then a re-run of one cohort that leaves
the other exactly as it was. Through the real CLI, Dagster (recording in an instance) and dbt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingestion.sample import generate
from tests.conftest import ROOT, gradtrack_env

GRADTRACK = str(Path(sys.executable).with_name("gradtrack"))
# Every mart with a cohort column, and the column list that fingerprints a cohort's rows.
COHORT_MARTS = [
    "indicators",
    "plan_status_transitions",
    "fct_graduate_outcomes",
    "fct_survey_responses",
    "dim_graduate",
]


def _run(tmp: Path, landing: Path, warehouse: Path, *cohorts: int) -> subprocess.CompletedProcess:
    args = [GRADTRACK, "run", "--landing", str(landing), "--warehouse", str(warehouse), "--skip-reports"]
    for cohort in cohorts:
        args += ["--cohort", str(cohort)]
    env = gradtrack_env(tmp)
    env["DAGSTER_HOME"] = str(tmp / "dagster_home")
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _fingerprints(warehouse: Path) -> dict[tuple[str, int], tuple[int, str]]:
    """(mart, cohort) -> (rows, hash of the rows in a stable order)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        found = {}
        for mart in COHORT_MARTS:
            for cohort, n, digest in con.execute(
                f"""select cohort, count(*), md5(string_agg(md5(t::varchar), '' order by md5(t::varchar)))
                    from marts.{mart} as t where cohort is not null group by cohort"""
            ).fetchall():
                found[(mart, cohort)] = (n, digest)
        return found
    finally:
        con.close()


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("backfill")
    (tmp / "dagster_home").mkdir()
    instance_yaml = (ROOT / "orchestration" / "dagster.yaml").read_bytes()
    (tmp / "dagster_home" / "dagster.yaml").write_bytes(instance_yaml)
    landing, warehouse = tmp / "landing", tmp / "wh" / "gradtrack.duckdb"
    generate(landing, graduates=150, cohorts=[2019, 2020], seed=11)
    first = _run(tmp, landing, warehouse, 2019, 2020)
    before = _fingerprints(warehouse)

    # Cohort 2020 changes: one school re-sends its register without its last graduate, and a
    # late 2019 survey file lands that a cohort-2020 run must leave for cohort 2019's own run.
    register = sorted((landing / "register").glob("*_2020.csv"))[0]
    lines = register.read_bytes().splitlines(keepends=True)
    register.write_bytes(b"".join(lines[:-1]))
    late = landing / "surveys" / "m6" / "late_2019.csv"
    biggest = max((landing / "surveys" / "m6").glob("*_2019.csv"), key=lambda p: p.stat().st_size)
    late.write_bytes(b"".join(biggest.read_bytes().splitlines(keepends=True)[:-1]))  # new content
    second = _run(tmp, landing, warehouse, 2020)
    return {
        "tmp": tmp,
        "warehouse": warehouse,
        "first": first,
        "second": second,
        "before": before,
        "after": _fingerprints(warehouse),
        "late": late.relative_to(landing).as_posix(),
    }


def test_backfill_of_two_cohorts_builds_both(backfilled):
    assert "cohort(s) 2019 to 2020" in backfilled["first"].stdout
    cohorts = {cohort for (_, cohort) in backfilled["before"]}
    assert cohorts == {2019, 2020}
    for mart in COHORT_MARTS:
        assert backfilled["before"][(mart, 2019)][0] > 0 and backfilled["before"][(mart, 2020)][0] > 0, mart


def test_rerunning_one_cohort_leaves_the_other_untouched(backfilled):
    before, after = backfilled["before"], backfilled["after"]
    for mart in COHORT_MARTS:
        assert after[(mart, 2019)] == before[(mart, 2019)], f"{mart}: cohort 2019 changed"
    # ... and cohort 2020 was rebuilt from its new register: one graduate fewer.
    assert after[("dim_graduate", 2020)][0] == before[("dim_graduate", 2020)][0] - 1
    assert after[("indicators", 2020)] != before[("indicators", 2020)]


def test_cohort_run_leaves_files_of_other_cohorts_for_their_own_run(backfilled):
    con = duckdb.connect(str(backfilled["warehouse"]), read_only=True)
    try:
        logged = con.execute(
            "select count(*) from audit.load_log where file = ?", [backfilled["late"]]
        ).fetchall()
    finally:
        con.close()
    assert logged == [(0,)]


def test_instance_records_cohort_partitions_and_mart_row_counts(backfilled):
    instance = dg.DagsterInstance.from_config(str(backfilled["tmp"] / "dagster_home"))
    try:
        indicators = dg.AssetKey(["marts", "indicators"])
        assert instance.get_materialized_partitions(indicators) == {"2019", "2020"}
        assert instance.get_materialized_partitions(dg.AssetKey(["raw", "register"])) == {"2019", "2020"}
        event = instance.get_latest_materialization_event(indicators)
        assert event is not None and event.asset_materialization is not None
        recorded = event.asset_materialization.metadata["dagster/row_count"].value
    finally:
        instance.dispose()
    con = duckdb.connect(str(backfilled["warehouse"]), read_only=True)
    try:
        assert recorded == con.execute("select count(*) from marts.indicators").fetchall()[0][0]
    finally:
        con.close()
