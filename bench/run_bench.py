"""National-scale benchmark: N graduates x 3 waves + admin spells, generated, ingested and built.

Times each stage separately (sample generation, ingestion, dbt build) and the peak resident memory,
then appends a row to docs/benchmarks.md. Run with `make bench` (default 1,000,000 graduates).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _timed(label: str, fn) -> float:
    started = time.perf_counter()
    fn()
    took = time.perf_counter() - started
    print(f"{label}: {took:.1f} s", flush=True)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--graduates", type=int, default=1_000_000)
    parser.add_argument("--cohorts", type=int, nargs="+", default=[2019])
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "bench")
    parser.add_argument("--no-record", action="store_true", help="do not append to docs/benchmarks.md")
    args = parser.parse_args()

    from ingestion.loaders import load_landing
    from ingestion.pseudonym import PseudonymKey
    from ingestion.sample import generate

    shutil.rmtree(args.workdir, ignore_errors=True)
    landing, warehouse = args.workdir / "landing", args.workdir / "gradtrack.duckdb"
    key = PseudonymKey.resolve("benchmark-key-not-secret-0123456789")
    per_cohort = args.graduates // len(args.cohorts)

    t_sample = _timed("sample", lambda: generate(landing, graduates=per_cohort, cohorts=args.cohorts, seed=1))
    size_mb = sum(f.stat().st_size for f in landing.rglob("*.csv")) / 1e6

    def ingest() -> None:
        con = duckdb.connect(str(warehouse))
        load_landing(con, landing, key)
        con.close()

    t_ingest = _timed("ingestion", ingest)
    con = duckdb.connect(str(warehouse), read_only=True)
    counts = {
        t: con.execute(f"select count(*) from raw.{t}").fetchall()[0][0]
        for t in ("register", "survey_pre_graduation", "survey_m6", "survey_m18", "employment_spells")
    }
    con.close()
    env = dict(os.environ, GRADTRACK_WAREHOUSE=str(warehouse), GRADTRACK_DBT_TARGET="prod")
    dbt = [
        str(BIN / "dbt"),
        "build",
        "--project-dir",
        "dbt_project",
        "--profiles-dir",
        "dbt_project",
        "--target-path",
        str(args.workdir / "target"),
        "--log-path",
        str(args.workdir / "logs"),
        "--exclude",
        "resource_type:unit_test",
    ]

    def build() -> None:
        proc = subprocess.run(dbt, cwd=ROOT, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stdout[-4000:])
            raise SystemExit("dbt build failed")

    t_dbt = _timed("dbt build", build)
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    wh_mb = warehouse.stat().st_size / 1e6
    row = (
        f"| {dt.date.today()} | {args.graduates:,} | {counts['register']:,} | "
        f"{counts['survey_pre_graduation'] + counts['survey_m6'] + counts['survey_m18']:,} | "
        f"{counts['employment_spells']:,} | {size_mb:,.0f} MB | {t_sample:.0f} s | {t_ingest:.0f} s | "
        f"{t_dbt:.0f} s | {t_ingest + t_dbt:.0f} s | {max(peak_self, peak_child):,.0f} MB | {wh_mb:,.0f} MB |"
    )
    print(row)
    if not args.no_record:
        doc = ROOT / "docs" / "benchmarks.md"
        if not doc.exists():
            doc.write_text(
                "# Benchmarks\n\n`make bench` (bench/run_bench.py): generate, ingest and build N graduates "
                f"x 3 waves + admin spells on this machine ({os.cpu_count()} cores, "
                f"{platform.python_version()}). Build = ingestion + dbt build (unit tests excluded).\n\n"
                "| date | graduates | register rows | responses | admin spells | landing CSV | sample | "
                "ingestion | dbt build | build total | peak RSS | warehouse |\n"
                "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
            )
        with doc.open("a") as f:
            f.write(row + "\n")


if __name__ == "__main__":
    main()
