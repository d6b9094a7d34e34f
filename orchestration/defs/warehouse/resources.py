"""The warehouse every asset and check uses: dagster-duckdb's resource, memory-capped, and the one
place where a run builds on a copy and publishes it (ingestion/building.py).

Because the copy and the swap live in the resource, not in `gradtrack run`, a run launched from the
UI, a schedule, the landing sensor or a backfill gets the same lock and the same all-or-nothing
publication as the command line.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from ingestion import erase as erasure
from ingestion.building import Build, exclusive
from ingestion.db import quote_literal
from orchestration import settings


class WarehouseDuckDB(DuckDBResource):
    """`DuckDBResource` on the run's working copy, whose connections honour GRADTRACK_DUCKDB_MEMORY.

    Initialised once per run (the in-process executor): it takes `<warehouse>.lock`, hands every step
    the working copy `<warehouse>.building.duckdb` (copied on first use), and when the run ends
    renames it, and the files staged with it (the analysts' copy), over the live ones — only if no
    step failed except those named in `publish_despite` (the report site, which only reads). Used
    outside a run (a test, a script) it connects to `database` itself.
    """

    # Step keys whose failure does not undo the warehouse (pydantic copies the default per instance).
    publish_despite: list[str] = []  # noqa: RUF012
    _build: Build | None = PrivateAttr(default=None)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[WarehouseDuckDB]:
        live = Path(self.database).resolve()
        with exclusive(live, on_wait=context.log.info if context.log else print):
            if context.instance is not None and context.run is not None:
                _claim(context.instance, context.run, live, context.log)
            self._build = Build.start(live)
            try:
                erased = _erase_first(self._build, live, context.log)
                yield self
            except BaseException:
                self._build.discard()
                raise
            failed = _failed_steps(context) - set(self.publish_despite)
            if failed:
                self._build.discard()
                if context.log:
                    context.log.info(f"steps {sorted(failed)} failed: the live warehouse is unchanged")
            else:
                if erased is not None:
                    _rewrite_without(self._build, erased)
                published = self._build.publish()
                if erased is not None:
                    erasure.record_done(live, erased)
                if context.log and published:
                    context.log.info(f"published {', '.join(map(str, published))}")
            self._build = None

    def working_database(self) -> Path:
        """The file this run writes (dbt's profile is pointed at it)."""
        return self._build.warehouse_copy() if self._build else Path(self.database)

    def read_database(self) -> Path:
        """The file this run's readers open: the working copy once written, else the live one."""
        return self._build.read_path() if self._build else Path(self.database)

    def stage(self, live: Path, mode: int) -> Path:
        """A file to publish with the warehouse (written meanwhile beside it as `.building`)."""
        return self._build.stage(live, mode) if self._build else live

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the working copy, memory-capped as dbt's profile is (run time, never at
        import): without a limit DuckDB may take 80 % of the machine per process."""
        limit = settings.duckdb_memory_limit()
        con = duckdb.connect(str(self.working_database()), config=self.connection_config)
        try:
            con.execute(f"set memory_limit = {quote_literal(limit)}")
            yield con
        finally:
            con.close()


def _erase_first(build: Build, live: Path, log: Any) -> erasure.Erasure | None:
    """`gradtrack erase`'s request, done on the working copy before any step rebuilds from it."""
    request = erasure.take(live)
    if request is None:
        return None
    con = duckdb.connect(str(build.warehouse_copy()))
    try:
        done = erasure.erase_person(con, request)
    finally:
        con.close()
    if log:  # counts only: never an identifier
        log.info(f"erasure {done.erasure_id}: {done.total} rows removed from the loaded layers")
    return done


def _rewrite_without(build: Build, erased: erasure.Erasure) -> None:
    """Rewrite the working copy into a fresh file (freed pages keep deleted values) and refuse it
    if any text column still holds a value of the erased person."""
    erasure.rewrite_database(build.work)
    con = duckdb.connect(str(build.work), read_only=True)
    try:
        left = erasure.leftover_columns(con, erased.values)
    finally:
        con.close()
    if left:
        build.discard()
        raise RuntimeError(f"values of the erased person are still in {[c for c, _n in left]}")


PID_TAG, HOST_TAG, WAREHOUSE_TAG = "gradtrack/pid", "gradtrack/host", "gradtrack/warehouse"
_UNFINISHED = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def _claim(instance: dg.DagsterInstance, run: dg.DagsterRun, live: Path, log: Any) -> None:
    """Mark as failed the earlier runs on this warehouse whose process is gone, then tag this one.

    A run killed with `kill -9` cannot record its end: the instance shows it running for ever and
    keeps its slot of the `duckdb_warehouse` pool, so every later run would wait for that slot.
    Holding the warehouse lock, this run knows no other run on the warehouse is alive; a run on
    this host whose recorded process no longer exists is a killed one.
    """
    host = socket.gethostname()
    earlier = instance.get_runs(
        filters=dg.RunsFilter(statuses=_UNFINISHED, tags={HOST_TAG: host, WAREHOUSE_TAG: str(live)})
    )
    for dead in earlier:
        pid = int(dead.tags.get(PID_TAG) or 0)
        if dead.run_id == run.run_id or _alive(pid):
            continue
        message = f"its process {pid} is gone (killed?); marked failed by run {run.run_id}"
        instance.report_run_failed(dead, message=message)
        instance.event_log_storage.free_concurrency_slots_for_run(dead.run_id)
        if log:
            log.warning(f"run {dead.run_id} on this warehouse: {message}; its pool slots were freed")
    instance.add_run_tags(run.run_id, {PID_TAG: str(os.getpid()), HOST_TAG: host, WAREHOUSE_TAG: str(live)})


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _failed_steps(context: dg.InitResourceContext) -> set[str]:
    """Steps of this run that failed (a blocking check that fails fails its step too)."""
    if context.instance is None or context.run is None:
        return set()
    run = context.instance.get_run_by_id(context.run.run_id)
    if run is not None and run.status in (dg.DagsterRunStatus.CANCELING, dg.DagsterRunStatus.CANCELED):
        return {"<run terminated>"}
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE
    ).records
    return {r.event_log_entry.step_key or "?" for r in records}
