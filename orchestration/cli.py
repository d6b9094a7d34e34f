"""`gradtrack`: the command line of data engineers (sample data, a whole pipeline run).

`gradtrack run` executes the Dagster Definitions in-process (the same assets the UI shows, no
second code path). It builds on a working copy of the warehouse and swaps it in only when the run
succeeds, so a failed run leaves the last good warehouse untouched.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console()


@app.command()
def sample(
    out: Annotated[Path, typer.Option(help="Landing folder to create")],
    graduates: Annotated[int, typer.Option(help="Graduates per cohort")] = 2000,
    cohorts: Annotated[list[int] | None, typer.Option(help="Graduation years")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files)")] = 42,
    truth: Annotated[Path | None, typer.Option(help="Ground-truth folder (default <out>.truth)")] = None,
) -> None:
    """Generate a realistic landing folder of synthetic graduates (and its ground truth)."""
    from ingestion.sample import generate

    started = time.perf_counter()
    summary = generate(out, graduates=graduates, cohorts=cohorts or [2019], seed=seed, truth=truth)
    console.print(summary)
    console.print(f"Sample written to {out} in {time.perf_counter() - started:.1f} s")


def _summary(warehouse: Path, since: str) -> tuple[Table, int]:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            """select file, status, rows_read, rows_loaded, rows_quarantined, message
               from audit.load_log where started_at >= ?::timestamp order by started_at""",
            [since],
        ).fetchall()
        quarantined = con.execute("select count(*) from audit.quarantine").fetchall()[0][0]
    finally:
        con.close()
    table = Table(title="Landing files")
    for col in ("file", "status", "read", "loaded", "quarantined", "note"):
        table.add_column(col, justify="right" if col in ("read", "loaded", "quarantined") else "left")
    for file, status, read, loaded, quar, msg in rows:
        table.add_row(file, status, str(read or 0), str(loaded or 0), str(quar or 0), msg or "")
    return table, quarantined


@app.command()
def run(
    landing: Annotated[Path, typer.Option(help="Landing folder (data contract)")],
    warehouse: Annotated[Path, typer.Option(help="DuckDB warehouse file")] = Path(
        "warehouse/gradtrack.duckdb"
    ),
) -> None:
    """Materialise the whole asset graph in-process and print a per-file summary."""
    if not landing.is_dir():
        console.print(f"[red]Landing folder {landing} does not exist.[/red]")
        raise typer.Exit(2)
    from ingestion.pseudonym import MissingKeyError, PseudonymKey

    try:  # fail before any work when there is no key
        PseudonymKey.resolve(
            os.environ.get("GRADTRACK_PSEUDONYM_KEY"),
            os.environ.get("GRADTRACK_PSEUDONYM_KEY_FILE"),
        )
    except MissingKeyError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc

    warehouse = warehouse.resolve()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    work = warehouse.with_name(warehouse.stem + ".building" + warehouse.suffix)
    for leftover in (work, Path(str(work) + ".wal")):
        leftover.unlink(missing_ok=True)
    if warehouse.exists():
        shutil.copy2(warehouse, work)
    os.environ["GRADTRACK_WAREHOUSE"] = str(work)
    os.environ["GRADTRACK_LANDING"] = str(landing.resolve())

    import dagster as dg

    from orchestration.defs.warehouse.project import dbt_project

    # The manifest the dbt assets are built from must match the models on disk: parse now, at run
    # time (never at import), so a fresh clone or an edited model needs no extra step.
    dbt_project.preparer.prepare(dbt_project)
    from orchestration.definitions import defs

    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() - 1))
    started = time.perf_counter()
    job = defs.resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
    elapsed = time.perf_counter() - started
    if not result.success:
        failures = [
            e.event_specific_data.error.message.strip()  # type: ignore[union-attr]
            for e in result.all_events
            if e.is_step_failure and e.event_specific_data and e.event_specific_data.error
        ]
        console.print("[red]Run failed; the warehouse was left as it was.[/red]")
        for f in failures:
            console.print(f"[red]- {f}[/red]")
        work.unlink(missing_ok=True)
        raise typer.Exit(1)
    os.replace(work, warehouse)
    table, quarantined = _summary(warehouse, since)
    console.print(table)
    console.print(
        f"Run succeeded in {elapsed:.1f} s. Warehouse: {warehouse}\n"
        f"Quarantine: {quarantined} problem(s) — query them with "
        f"[bold]select * from audit.quarantine[/bold]."
    )


if __name__ == "__main__":
    app()
