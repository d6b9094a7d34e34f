"""Build on a copy, publish by rename (ingestion/building.py): the files behind every way a run
starts. A failure or a kill at any point leaves the live warehouse, the analysts' copy and the
report site as they were; success publishes all of them."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingestion.building import (
    ANALYST_MODE,
    WAREHOUSE_MODE,
    Build,
    exclusive,
    lock_path,
    rebuilt_folder,
    working_path,
)
from orchestration.defs.warehouse.resources import WarehouseDuckDB


@pytest.fixture
def here(tmp_path: Path) -> Path:
    """An empty folder of this test's own (tmp_path also holds the test's DAGSTER_HOME)."""
    folder = tmp_path / "here"
    folder.mkdir()
    return folder


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _warehouse(path: Path, rows: int) -> Path:
    con = duckdb.connect(str(path))
    try:
        con.execute("create or replace table t as select range as i from range(?)", [rows])
    finally:
        con.close()
    return path


def _rows(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select count(*) from t").fetchall()[0][0]
    finally:
        con.close()


def test_publish_renames_every_working_file_over_its_live_one_with_private_modes(here):
    live = _warehouse(here / "gradtrack.duckdb", 3)
    analyst = here / "gradtrack.analyst.duckdb"
    build = Build.start(live)
    work = build.warehouse_copy()
    assert work == working_path(live) and _rows(work) == 3
    assert build.read_path() == work
    _warehouse(work, 5)
    _warehouse(build.stage(analyst, ANALYST_MODE), 1)
    assert _rows(live) == 3 and not analyst.exists()  # nothing is live before the end
    assert build.publish() == [analyst, live]
    assert _rows(live) == 5 and _rows(analyst) == 1
    assert live.stat().st_mode & 0o777 == WAREHOUSE_MODE
    assert analyst.stat().st_mode & 0o777 == ANALYST_MODE
    assert sorted(p.name for p in here.iterdir()) == [analyst.name, live.name]


def test_discard_removes_the_working_files_and_the_next_run_removes_a_killed_runs(here):
    live = _warehouse(here / "gradtrack.duckdb", 3)
    before = live.read_bytes()
    build = Build.start(live)
    _warehouse(build.warehouse_copy(), 9)
    build.discard()
    assert live.read_bytes() == before and not working_path(live).exists()
    # A killed run leaves its working copy (and a WAL) behind: the next run starts without them.
    working_path(live).write_bytes(b"half written")
    Path(f"{working_path(live)}.wal").write_bytes(b"wal")
    Build.start(live)
    assert sorted(p.name for p in here.iterdir()) == [live.name]


def test_a_reader_of_a_run_without_writes_sees_the_live_file(here):
    live = _warehouse(here / "gradtrack.duckdb", 3)
    build = Build.start(live)
    assert build.read_path() == live  # a report-only run copies nothing
    assert build.publish() == [] and not working_path(live).exists()


def test_a_second_holder_of_the_lock_waits_and_says_so(here):
    warehouse = here / "wh" / "gradtrack.duckdb"
    said: list[str] = []
    with exclusive(warehouse):
        waiter = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from ingestion.building import exclusive\n"
                "with exclusive(Path(sys.argv[1])): print('got it', flush=True)",
                str(warehouse),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert waiter.stdout is not None
        assert "Another run is building" in waiter.stdout.readline()
        time.sleep(1)
        assert waiter.poll() is None  # still waiting while the first holds the lock
    assert waiter.stdout.readline().startswith("The other run has finished")
    assert waiter.stdout.readline() == "got it\n"
    assert waiter.wait(timeout=30) == 0
    with exclusive(warehouse, on_wait=said.append):
        pass
    assert said == [] and lock_path(warehouse).exists()


def _site(folder: Path) -> Path:
    (folder / "2019" / "exports").mkdir(parents=True)
    (folder / "2020").mkdir()
    (folder / "index.html").write_text("<a href='2019/index.html'>2019</a>", encoding="utf-8")
    (folder / "2019" / "index.html").write_text("cohort 2019", encoding="utf-8")
    (folder / "2019" / "exports" / "a.csv").write_text("x\n1\n", encoding="utf-8")
    (folder / "2020" / "index.html").write_text("cohort 2020", encoding="utf-8")
    return folder


def test_a_rebuilt_site_is_swapped_in_whole_and_the_old_files_are_never_edited(here):
    live = _site(here / "site")
    snapshot = here / "snapshot"  # hard links to the live files: an edit in place would show
    subprocess.run(["cp", "-al", str(live), str(snapshot)], check=True)
    before = _digest(snapshot)
    with rebuilt_folder(live) as staging:
        assert staging != live and _digest(staging) == before  # starts from the live site
        (staging / "index.html").write_text("new index", encoding="utf-8")  # rewritten in place
        shutil.rmtree(staging / "2020")  # a cohort is rebuilt whole
        (staging / "2020").mkdir()
        (staging / "2020" / "index.html").write_text("cohort 2020, new", encoding="utf-8")
        assert _digest(live) == before  # nothing live changes while the site is written
    assert (live / "index.html").read_text(encoding="utf-8") == "new index"
    assert (live / "2020" / "index.html").read_text(encoding="utf-8") == "cohort 2020, new"
    assert (live / "2019" / "exports" / "a.csv").read_text(encoding="utf-8") == "x\n1\n"
    assert _digest(snapshot) == before
    assert sorted(p.name for p in here.iterdir()) == ["site", "snapshot"]


def test_a_failed_site_build_leaves_the_live_site(here):
    live = _site(here / "site")
    before = _digest(live)
    with pytest.raises(RuntimeError), rebuilt_folder(live) as staging:
        (staging / "index.html").write_text("half", encoding="utf-8")
        raise RuntimeError("a page crashed")
    assert _digest(live) == before
    assert sorted(p.name for p in here.iterdir()) == ["site"]


def test_a_kill_between_the_two_renames_is_repaired_by_the_next_build(here):
    live = _site(here / "site")
    before = _digest(live)
    live.rename(here / "site.previous")  # the first rename done, the second not
    (here / "site.building").mkdir()
    with rebuilt_folder(live) as staging:
        assert _digest(staging) == before
    assert _digest(live) == before
    assert sorted(p.name for p in here.iterdir()) == ["site"]


def test_a_site_folder_that_is_a_file_is_refused_and_kept(here):
    target = here / "reports"
    target.write_text("not a folder", encoding="utf-8")
    with pytest.raises(NotADirectoryError, match="is a file"), rebuilt_folder(target):
        pass
    assert target.read_text(encoding="utf-8") == "not a folder"


# --------------------------------------------------------------- the resource, in real Dagster runs


@dg.asset
def grows(duckdb: WarehouseDuckDB) -> None:
    with duckdb.get_connection() as con:
        con.execute("insert into t select 100")


@dg.asset(deps=[grows])
def fails_after(duckdb: WarehouseDuckDB) -> None:
    with duckdb.get_connection() as con:
        con.execute("insert into t select 200")
    raise RuntimeError("a later step fails")


@dg.asset(deps=[grows])
def reads(duckdb: WarehouseDuckDB) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": _rows(duckdb.read_database())})


def _defs(live: Path, *, despite: list[str] | None = None) -> dg.Definitions:
    resource = WarehouseDuckDB(database=str(live), publish_despite=despite or [])
    return dg.Definitions(
        assets=[grows, fails_after, reads], resources={"duckdb": resource}, executor=dg.in_process_executor
    )


def test_a_dagster_run_publishes_its_copy_only_when_every_step_succeeded(here):
    live = _warehouse(here / "gradtrack.duckdb", 3)
    before = live.read_bytes()
    job = _defs(live).resolve_implicit_global_asset_job_def()
    with dg.instance_for_test() as instance:
        failed = job.execute_in_process(instance=instance, raise_on_error=False)
        assert not failed.success
        assert live.read_bytes() == before  # `grows` succeeded, but the run did not
        assert not working_path(live).exists()

        ok = job.execute_in_process(instance=instance, asset_selection=[grows.key, reads.key])
        assert ok.success and _rows(live) == 4
        read = ok.asset_materializations_for_node("reads")[0].metadata["rows"].value
        assert read == 4  # the reader saw the run's copy, not the live file
        assert live.stat().st_mode & 0o777 == WAREHOUSE_MODE and not working_path(live).exists()

        # A step named in publish_despite (the report site) may fail without undoing the build.
        despite = _defs(live, despite=["fails_after"]).resolve_implicit_global_asset_job_def()
        assert not despite.execute_in_process(instance=instance, raise_on_error=False).success
        assert _rows(live) == 6  # 4 + grows + fails_after's own insert, published


def test_outside_a_run_the_resource_connects_to_its_database(here):
    live = _warehouse(here / "gradtrack.duckdb", 2)
    resource = WarehouseDuckDB(database=str(live))
    with resource.get_connection() as con:
        assert con.execute("select count(*) from t").fetchall() == [(2,)]
    assert resource.read_database() == live and resource.stage(live, 0o600) == live
    assert os.listdir(here) == [live.name]
