"""`gradtrack`: the command line of data engineers (sample data, a whole pipeline run).

`gradtrack run` executes the Dagster Definitions in-process (the same assets the UI shows, no
second code path). The run's warehouse resource builds on a working copy and swaps it in only when
the run succeeds (as for a run from the UI), so a failed run leaves the last good warehouse
untouched; the report site is then rendered, in a run of its own, from the warehouse just swapped in
(a report failure keeps it: exit code 4).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    import dagster as dg

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
# `gradtrack run` exit codes: 0 success, 1 failed (warehouse untouched), 2 bad arguments or setup,
# 3 finished with rejected landing files (the warehouse was built from every other file),
# 4 the warehouse was built and kept but the report site failed.
EXIT_REJECTED = 3
EXIT_REPORTS_FAILED = 4
# Wide enough for landing paths when output goes to a file or CI log.
console = Console(width=None if sys.stdout.isatty() else 160)


@app.command(context_settings={"allow_extra_args": True})
def sample(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Landing folder to create")],
    graduates: Annotated[int, typer.Option(help="Graduates per cohort")] = 2000,
    cohorts: Annotated[
        list[int] | None, typer.Option(help="Graduation years: --cohorts 2019 2020 ...")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files)")] = 42,
    truth: Annotated[Path | None, typer.Option(help="Ground-truth folder (default <out>.truth)")] = None,
) -> None:
    """Generate a realistic landing folder of synthetic graduates (and its ground truth)."""
    from ingestion.sample import generate

    # `--cohorts 2019 2020`: Click gives the option one value; the rest arrive as extra arguments.
    extra = [int(a) for a in ctx.args if a.isdigit()]
    unknown = [a for a in ctx.args if not a.isdigit()]
    if unknown:
        raise typer.BadParameter(f"unexpected arguments {unknown}")
    cohorts = [*(cohorts or []), *extra]
    started = time.perf_counter()
    summary = generate(
        out, graduates=graduates, cohorts=cohorts or [2019], seed=seed, truth=truth, overwrite=True
    )
    console.print(
        f"{summary.register_rows} graduates, {summary.survey_rows} survey responses, "
        f"{summary.admin_rows} admin spells in {summary.files} files; truth in {summary.truth}"
    )
    console.print(f"Sample written to {out} in {time.perf_counter() - started:.1f} s")


def _summary(warehouse: Path, since: str) -> tuple[Table, int, list[str]]:
    """The landing-file table of this run, the quarantine size, and warning lines (rejected files,
    files with all or most of their rows quarantined)."""
    import duckdb

    from orchestration.defs.quality.checks import quarantine_warn_share

    share = quarantine_warn_share()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            """select file, status, rows_read, rows_loaded, rows_quarantined, cells_quarantined, message
               from audit.load_log where started_at >= ?::timestamp order by file""",
            [since],
        ).fetchall()
        quarantined = con.execute("select count(*) from audit.quarantine").fetchall()[0][0]
    finally:
        con.close()
    warnings = [f"rejected {file}: {msg}" for file, status, *_, msg in rows if status == "rejected"]
    warnings += [f"ignored {file}: {msg}" for file, status, *_, msg in rows if status == "ignored"]
    warnings += [
        f"{file}: {quar} of {read} rows quarantined"
        for file, status, read, _, quar, _, _ in rows
        if status == "loaded" and read and (quar == read or quar > share * read)
    ]
    table = Table(title="Landing files")
    table.add_column("file", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for col in ("read", "loaded", "quarantined"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("note", overflow="fold")
    for file, status, read, loaded, quar, cells, msg in rows:
        # Rows kept with an unreadable optional value emptied count as loaded: say so beside them.
        emptied = f"{cells} unreadable optional value(s) emptied, rows kept" if cells else ""
        note = "; ".join(n for n in (emptied, msg) if n)
        # File names and messages come from the data: plain Text, never console markup.
        table.add_row(Text(file), status, str(read or 0), str(loaded or 0), str(quar or 0), Text(note))
    return table, quarantined, warnings


def _failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """The failed blocking checks, each with its description, then the root cause of every other
    failed step of a run (a step stopped by a failed check adds nothing to the check's own line)."""
    checks = _failed_checks(result)
    return checks + [
        _root_cause(e.event_specific_data.error)  # type: ignore[union-attr]
        for e in result.all_events
        if e.is_step_failure
        and e.event_specific_data
        and e.event_specific_data.error
        and not (checks and e.event_specific_data.error.cls_name == "DagsterAssetCheckFailedError")
    ]


def _private(path: Path) -> Path:
    """Create `path` readable by its owner only (dbt's log names files and tables of the warehouse)."""
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    return path


def _failed_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    """Every failed blocking check, with what its description says went wrong."""
    return [
        f"{e.asset_key.to_user_string()} {e.check_name}: {e.description or 'failed'}"
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.blocking
    ]


def _failed_pages(result: dg.ExecuteInProcessResult) -> list[str]:
    """Pages the site could not write, as the report asset's ``all_pages_rendered`` check lists them."""
    import dagster as dg

    failed: list[str] = []
    for evaluation in result.get_asset_check_evaluations():
        listing = evaluation.metadata.get("failed_pages")
        if not evaluation.passed and isinstance(listing, dg.JsonMetadataValue):
            failed += [str(item) for item in listing.data or ()]
    return failed


def _root_cause(error) -> str:  # error: dagster's SerializableErrorInfo
    """The message of the innermost error: Dagster wraps a step's own exception in its own."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def _analyst_path(warehouse: Path) -> Path:
    """`gradtrack.duckdb` -> `gradtrack.analyst.duckdb`, the analysts' copy beside the warehouse."""
    return warehouse.with_name(warehouse.stem + ".analyst" + warehouse.suffix)


def _wait_for_other_runs(warehouse: Path) -> None:
    """Say so, and wait, while another run holds the warehouse. The run takes the lock itself for
    its whole length (a run from the UI does the same); this is the terminal's view of the wait."""
    from ingestion.building import exclusive

    with exclusive(warehouse, on_wait=lambda line: console.print(line, markup=False)):
        pass


@app.command()
def run(
    landing: Annotated[Path, typer.Option(help="Landing folder (data contract)")],
    warehouse: Annotated[Path, typer.Option(help="DuckDB warehouse file")] = Path(
        "warehouse/gradtrack.duckdb"
    ),
    reports: Annotated[
        Path | None, typer.Option(help="Report site folder (default: reports/ beside the warehouse)")
    ] = None,
    skip_reports: Annotated[
        bool, typer.Option("--skip-reports", help="Build the warehouse only, no report site")
    ] = False,
    linkage_decisions: Annotated[
        Path | None, typer.Option(help="CSV of reviewers' link decisions (docs/linkage.md)")
    ] = None,
    cohorts: Annotated[
        list[int] | None,
        typer.Option(
            "--cohort",
            help="Build only this graduation year (repeat for several); the others stay as they are",
        ),
    ] = None,
    full_refresh: Annotated[
        bool,
        typer.Option("--full-refresh", help="Rebuild every dbt table from scratch (after a model change)"),
    ] = False,
    accept_shrink: Annotated[
        bool,
        typer.Option(
            "--accept-shrink",
            help="Let re-sent files replace earlier versions however many rows they remove "
            "(by default a file losing over GRADTRACK_MAX_SHRINK, 20%, of its rows is refused)",
        ),
    ] = False,
) -> None:
    """Materialise the asset graph in-process (every cohort, or those given) and print a summary.

    When DAGSTER_HOME is set the run is recorded in that instance, so `make dev`'s UI shows it.
    """
    if not landing.is_dir():
        console.print(f"Landing folder {landing} does not exist.", style="red", markup=False)
        raise typer.Exit(2)
    from ingestion.loaders import ignored_files, place

    if not any(p.is_file() and place(p.relative_to(landing).as_posix()) for p in landing.rglob("*")):
        console.print(
            f"Landing folder {landing} holds no landing files (register/*.csv, surveys/<wave>/*.csv, "
            "admin/*.csv, context/*.csv): nothing to build.",
            style="red",
            markup=False,
        )
        for file, why in ignored_files(landing)[:20]:
            console.print(f"- {file}: {why}", markup=False)
        raise typer.Exit(2)
    from ingestion.pseudonym import KeyMismatchError, MissingKeyError, PseudonymKey

    try:  # fail before any work when there is no key
        key = PseudonymKey.resolve(
            os.environ.get("GRADTRACK_PSEUDONYM_KEY"),
            os.environ.get("GRADTRACK_PSEUDONYM_KEY_FILE"),
        )
    except MissingKeyError as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from exc

    from orchestration.defs.partitions import RANGE_END, RANGE_START, cohort_partitions

    every = cohort_partitions.get_partition_keys()
    keys = sorted({str(c) for c in cohorts or []})
    if any(k not in every for k in keys):
        console.print(f"[red]Cohorts must be graduation years from {every[0]} to {every[-1]}.[/red]")
        raise typer.Exit(2)
    if keys and [every.index(k) for k in keys] != list(
        range(every.index(keys[0]), every.index(keys[-1]) + 1)
    ):
        console.print("[red]Give consecutive cohorts (one run covers one range of years).[/red]")
        raise typer.Exit(2)
    first, last = (keys[0], keys[-1]) if keys else (every[0], every[-1])

    warehouse = warehouse.resolve()
    if not warehouse.parent.is_dir():  # said aloud: a mistyped folder must not pass unnoticed
        console.print(
            f"The warehouse folder {warehouse.parent} does not exist: creating it for a NEW, "
            "empty warehouse. If that path is mistyped, stop now (Ctrl-C).",
            style="yellow",
            markup=False,
        )
        warehouse.parent.mkdir(parents=True)
    elif not warehouse.exists():
        console.print(f"No warehouse at {warehouse} yet: starting a new one.", markup=False)
    _wait_for_other_runs(warehouse)
    try:  # the same key for every load of a warehouse, or every link to earlier loads breaks
        key.check_file(warehouse)
    except KeyMismatchError as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from exc
    # The run itself builds on a copy and swaps it in when it succeeds (ingestion/building.py), as
    # runs from the UI, a schedule or the sensor do: the paths given here are the live files.
    os.environ["GRADTRACK_WAREHOUSE"] = str(warehouse)
    os.environ["GRADTRACK_LANDING"] = str(landing.resolve())
    reports = (reports or warehouse.parent / "reports").resolve()
    os.environ["GRADTRACK_REPORTS"] = str(reports)
    analyst = _analyst_path(warehouse)
    os.environ["GRADTRACK_ANALYST_DATABASE"] = str(analyst)
    if linkage_decisions:
        os.environ["GRADTRACK_LINKAGE_DECISIONS"] = str(linkage_decisions.resolve())

    from orchestration.defs.warehouse.project import dbt_project, preparer

    # The manifest the dbt assets are built from must match the models on disk: parse now, at run
    # time (never at import), so a fresh clone or an edited model needs no extra step.
    preparer.prepare(dbt_project)
    from orchestration.definitions import defs

    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() - 1))
    started = time.perf_counter()
    graph = defs.resolve_asset_graph()
    selection = [  # every asset with a step (not the specs ingestion writes as a side effect)
        key
        for key in graph.get_all_asset_keys()
        if graph.get(key).is_executable and not (skip_reports and key.path[0] == "reports")
    ]
    log_path = warehouse.with_name(warehouse.stem + ".run.log")
    console.print(f"Running the asset graph; dbt's full output goes to {log_path}", markup=False)
    which = "every cohort" if not keys else f"cohort(s) {first}" + (f" to {last}" if last != first else "")
    console.print(f"Building {which}")
    run_config: dict = {"loggers": {"progress": {}}}
    if full_refresh:
        run_config["ops"] = {"warehouse_models": {"config": {"full_refresh": True}}}
    if accept_shrink:
        landing_config = {"path": {"env": "GRADTRACK_LANDING"}, "accept_shrink": True}
        run_config["resources"] = {"landing": {"config": landing_config}}
    warehouse_keys = [k for k in selection if k.path[0] != "reports"]
    report_keys = [k for k in selection if k.path[0] == "reports"]
    tags = {RANGE_START: first, RANGE_END: last, "gradtrack/launched_by": "gradtrack run"}
    result, report_result = _execute(log_path, run_config, warehouse_keys, report_keys, tags)
    elapsed = time.perf_counter() - started
    if not result.success:
        console.print("[red]Run failed; the warehouse was left as it was.[/red]")
        for f in _failures(result):
            console.print(f"- {f}", style="red", markup=False)
        raise typer.Exit(1)
    table, quarantined, warnings = _summary(warehouse, since)
    console.print(table)
    where = "" if skip_reports else f"Reports: {escape(str(reports / 'index.html'))}\n"
    rejected = [w for w in warnings if w.startswith("rejected ")]
    outcome = f"Run finished with {len(rejected)} rejected file(s)" if rejected else "Run succeeded"
    console.print(
        f"{outcome} in {elapsed:.1f} s. Warehouse: {escape(str(warehouse))}\n"
        f"Analysts' database (no restricted data): {escape(str(analyst))}\n{where}"
        f"Quarantine: {quarantined} problem(s) — query them with "
        f"[bold]select * from audit.quarantine[/bold]."
    )
    if keys and not _has_cohorts(warehouse, keys):
        console.print(
            f"[yellow]No graduates of cohort(s) {', '.join(keys)} in the register: nothing was built "
            "for them (check --cohort and the register files).[/yellow]"
        )
    for w in warnings:
        console.print(f"Warning: {w}", style="yellow", markup=False)
    if report_result is not None and not report_result.success:
        console.print("[red]The report site failed; the warehouse of this run was kept.[/red]")
        for f in _failures(report_result):
            console.print(f"- {f}", style="red", markup=False)
        raise typer.Exit(EXIT_REPORTS_FAILED)
    if report_result is not None:
        for f in _failed_pages(report_result):
            console.print(f"Warning: report not written: {f}", style="yellow", markup=False)
    if rejected:
        raise typer.Exit(EXIT_REJECTED)


def _execute(
    log_path: Path, run_config: dict, warehouse_keys: list, report_keys: list, tags: dict[str, str]
) -> tuple[dg.ExecuteInProcessResult, dg.ExecuteInProcessResult | None]:
    """The warehouse run, then (when it succeeded and there are any) the report site's run.

    A successful warehouse run has swapped its warehouse in: the reports read it in a run of their
    own, so that a failure there keeps it. When DAGSTER_HOME is set both are recorded there.
    """
    import dagster as dg

    from orchestration.definitions import defs

    job = defs.resolve_implicit_global_asset_job_def()
    report_result = None
    with (
        dg.DagsterInstance.get()
        if os.environ.get("DAGSTER_HOME")
        else dg.DagsterInstance.ephemeral() as instance,
        _private(log_path).open("w") as log_file,
        contextlib.redirect_stdout(log_file),  # dagster-dbt echoes every dbt event on stdout
    ):
        # One run over a range of cohort partitions, as a single-run backfill launches it.
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config=run_config,
            asset_selection=warehouse_keys,
            tags=tags,
        )
        if result.success and report_keys:
            report_result = job.execute_in_process(
                instance=instance,
                raise_on_error=False,
                run_config={"loggers": run_config["loggers"]},
                asset_selection=report_keys,
                tags=tags,
            )
    return result, report_result


@app.command()
def erase(
    warehouse: Annotated[Path, typer.Option(help="DuckDB warehouse file")] = Path(
        "warehouse/gradtrack.duckdb"
    ),
    national_id: Annotated[str | None, typer.Option(help="National id of the person to erase")] = None,
    student_id: Annotated[str | None, typer.Option(help="Student id (with --school)")] = None,
    school: Annotated[str | None, typer.Option(help="School code of --student-id")] = None,
    reports: Annotated[
        Path | None, typer.Option(help="Report site folder (default: reports/ beside the warehouse)")
    ] = None,
    linkage_decisions: Annotated[
        Path | None, typer.Option(help="CSV of reviewers' link decisions, as given to `run`")
    ] = None,
) -> None:
    """Erase one graduate from every layer (GDPR art. 17; docs/erasure.md).

    Deletes them from the loaded layers, keeps keyed markers so that a re-sent file does not bring
    them back, rebuilds every model, the analysts' database and the report site, rewrites the
    warehouse file (no freed page keeps their values) and checks that no file it wrote holds one.
    All on working copies, swapped in only when everything succeeded. Prints no identifier.
    """
    import duckdb

    from ingestion import erase as erasure
    from ingestion.pseudonym import KeyMismatchError, MissingKeyError, PseudonymKey

    try:
        key = PseudonymKey.resolve(
            os.environ.get("GRADTRACK_PSEUDONYM_KEY"), os.environ.get("GRADTRACK_PSEUDONYM_KEY_FILE")
        )
        req = erasure.ErasureRequest(key, national_id=national_id, student_id=student_id, school=school)
    except (MissingKeyError, ValueError) as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from exc
    if not warehouse.is_file():
        console.print(f"Warehouse {warehouse} does not exist.", style="red", markup=False)
        raise typer.Exit(2)
    warehouse = warehouse.resolve()
    try:
        key.check_file(warehouse)
    except KeyMismatchError as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from exc
    _wait_for_other_runs(warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        found = erasure.matches(con, req)
    finally:
        con.close()
    if not found:
        console.print(
            "Nothing was changed: no graduate or survey response matches the identifiers given.",
            style="red",
        )
        raise typer.Exit(1)
    reports = (reports or warehouse.parent / "reports").resolve()
    analyst = _analyst_path(warehouse)
    log_path = warehouse.with_name(warehouse.stem + ".run.log")
    os.environ.update(
        GRADTRACK_WAREHOUSE=str(warehouse),
        GRADTRACK_ANALYST_DATABASE=str(analyst),
        GRADTRACK_REPORTS=str(reports),
        GRADTRACK_LANDING=os.environ.get("GRADTRACK_LANDING", str(warehouse.parent)),  # not loaded
    )
    if linkage_decisions:  # the full rebuild links with the same reviewers' decisions as `run`
        os.environ["GRADTRACK_LINKAGE_DECISIONS"] = str(linkage_decisions.resolve())
    from orchestration.defs.partitions import RANGE_END, RANGE_START, cohort_partitions
    from orchestration.defs.warehouse.project import dbt_project, preparer

    preparer.prepare(dbt_project)
    from orchestration.definitions import defs

    graph, every = defs.resolve_asset_graph(), cohort_partitions.get_partition_keys()
    rebuilt = [k for k in graph.get_all_asset_keys() if graph.get(k).is_executable and k.path[0] != "raw"]
    console.print(f"Erasing, then rebuilding every model and report (dbt's output: {log_path})", markup=False)
    # The identifiers reach the run's warehouse resource in this process, never its run config.
    erasure.request(warehouse, req)
    full_refresh = {"warehouse_models": {"config": {"full_refresh": True}}}
    run_config = {"loggers": {"progress": {}}, "ops": full_refresh}
    tags = {RANGE_START: every[0], RANGE_END: every[-1], "gradtrack/launched_by": "gradtrack erase"}
    result, report_result = _execute(
        log_path,
        run_config,
        [k for k in rebuilt if k.path[0] != "reports"],
        [k for k in rebuilt if k.path[0] == "reports"],
        tags,
    )
    erasure.take(warehouse)  # a request the run never took (it failed to start) goes with it
    done = erasure.done(warehouse)
    if not result.success or done is None:
        console.print("Nothing was changed: the rebuild after the erasure failed.", style="red")
        for f in _failures(result):
            console.print(f"- {f}", style="red", markup=False)
        raise typer.Exit(1)
    tables = sum(1 for n in done.removed.values() if n)
    console.print(
        f"Erasure {done.erasure_id}: {done.total} row(s) removed from {tables} table(s); the person is on "
        "the erasure list, so a re-sent file does not bring them back. Every model and the analysts' "
        "database were rebuilt and the warehouse file rewritten.",
        markup=False,
    )
    if report_result is None or not report_result.success:
        console.print(
            f"The report site was not rebuilt: rebuild it (gradtrack run) before publishing {reports}.",
            style="red",
            markup=False,
        )
        raise typer.Exit(EXIT_REPORTS_FAILED)
    written = [warehouse, analyst, log_path, *(p for p in reports.rglob("*") if p.is_file())]
    holding = erasure.files_holding(written, done.values)
    if holding:
        console.print(f"Files still holding their values: {[str(p) for p, _n in holding]}", style="red")
        raise typer.Exit(1)
    console.print(f"No byte of their identifiers is left in the {len(written)} files gradtrack wrote.")


def _has_cohorts(warehouse: Path, keys: list[str]) -> bool:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        found = con.execute(
            "select count(*) from raw.register where cohort in (select unnest(?::integer[]))",
            [[int(k) for k in keys]],
        ).fetchall()[0][0]
    finally:
        con.close()
    return bool(found)


if __name__ == "__main__":
    app()
