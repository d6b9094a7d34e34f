"""The whole pipeline on generated sample data, through the real CLI, Dagster and dbt."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ingestion.privacy import personal_value_leaks
from ingestion.sample import generate
from tests.conftest import ROOT, gradtrack_env

GRADTRACK = str(Path(sys.executable).with_name("gradtrack"))


def _run(tmp: Path, landing: Path, warehouse: Path, **env_overrides: str) -> subprocess.CompletedProcess:
    env = gradtrack_env(tmp)
    env.update(env_overrides)
    return subprocess.run(
        # Reports have their own tests (tests/test_reports_*.py); here the warehouse is the subject.
        [GRADTRACK, "run", "--landing", str(landing), "--warehouse", str(warehouse), "--skip-reports"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    tmp = tmp_path_factory.mktemp("pipeline")
    landing, warehouse = tmp / "landing", tmp / "wh" / "gradtrack.duckdb"
    generate(landing, graduates=400, cohorts=[2019], seed=7)
    return landing, warehouse, _run(tmp, landing, warehouse)


def test_run_succeeds_and_prints_per_file_summary(built):
    landing, warehouse, proc = built
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert warehouse.exists() and not warehouse.with_name("gradtrack.building.duckdb").exists()
    for f in landing.rglob("*.csv"):
        assert f.relative_to(landing).as_posix() in proc.stdout.replace("\n", "") or f.name in proc.stdout


def test_every_landing_file_loaded_and_accounted(built):
    landing, warehouse, _ = built
    con = duckdb.connect(str(warehouse), read_only=True)
    log = con.execute(
        "select file, status, rows_read, rows_loaded, rows_quarantined from audit.load_log"
    ).fetchall()
    files = {f.relative_to(landing).as_posix() for f in landing.rglob("*.csv")}
    assert {row[0] for row in log} == files
    assert {row[1] for row in log} == {"loaded"}
    for _, _, read, loaded, quarantined in log:
        assert read == loaded + quarantined
    # The quarantine is a table users query with SQL; its rows point into the log.
    orphans = con.execute(
        "select count(*) from audit.quarantine q anti join audit.load_log l using (load_id)"
    ).fetchall()[0][0]
    assert orphans == 0
    n_register = con.execute("select count(*) from raw.register").fetchall()[0][0]
    assert n_register > 0.95 * 400
    con.close()


def test_no_personal_value_outside_restricted_after_full_build(built):
    _, warehouse, _ = built
    con = duckdb.connect(str(warehouse), read_only=True)
    schemas = {r[0] for r in con.execute("select schema_name from information_schema.schemata").fetchall()}
    assert {"raw", "restricted", "audit", "staging"} <= schemas
    assert personal_value_leaks(con) == []
    con.close()


def test_analysts_get_a_database_without_restricted_or_raw_data(built):
    _, warehouse, proc = built
    analyst = warehouse.with_name("gradtrack.analyst.duckdb")
    assert str(analyst) in proc.stdout.replace("\n", "")
    con = duckdb.connect(str(analyst), read_only=True)
    try:
        schemas = {r[0] for r in con.execute("select distinct schema_name from duckdb_tables()").fetchall()}
        assert schemas == {"marts", "reference", "audit"}
        copied = con.execute("select count(*) from marts.indicators").fetchall()[0][0]
        catalog = con.execute("select current_database()").fetchall()[0][0]
        # The register's personal values, taken from the pipeline's warehouse, appear nowhere.
        con.execute(f"attach '{warehouse}' as pipeline (read_only)")
        con.execute(
            """create temp table personal as
               select distinct lower(trim(v)) as v from (
                 select unnest([national_id, email_norm, phone_norm, first_name || ' ' || last_name]) as v
                 from pipeline.restricted.register_identifiers) where v is not null and length(v) > 3"""
        )
        assert con.execute("select count(*) from personal").fetchall()[0][0] > 100
        text_columns = con.execute(
            """select schema_name, table_name, column_name from duckdb_columns()
               where database_name = ? and data_type = 'VARCHAR'""",
            [catalog],
        ).fetchall()
        assert text_columns
        for schema, table, column in text_columns:
            hits = con.execute(
                f'select count(*) from "{catalog}"."{schema}"."{table}" t '
                f'join personal p on lower(trim(t."{column}")) = p.v'
            ).fetchall()[0][0]
            assert hits == 0, (schema, table, column)
        in_warehouse = con.execute("select count(*) from pipeline.marts.indicators").fetchall()[0][0]
    finally:
        con.close()
    assert copied == in_warehouse > 0


def test_failed_run_leaves_last_good_warehouse_intact(built, tmp_path):
    landing, warehouse, proc = built
    assert proc.returncode == 0
    analyst = warehouse.with_name("gradtrack.analyst.duckdb")
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    analyst_before = hashlib.sha256(analyst.read_bytes()).hexdigest()
    broken = landing / "register" / "zz_broken.csv"
    broken.write_text("student_id;school_code\nX1;ES-X\n", encoding="utf-8")
    try:
        failed = _run(tmp_path, landing, warehouse)
    finally:
        broken.unlink()
    assert failed.returncode == 1
    assert "register/zz_broken.csv" in failed.stdout and "missing required column" in failed.stdout
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before
    assert hashlib.sha256(analyst.read_bytes()).hexdigest() == analyst_before


def test_run_without_key_stops_with_instructions(built, tmp_path):
    landing, _, _ = built
    proc = _run(tmp_path, landing, tmp_path / "w.duckdb", GRADTRACK_PSEUDONYM_KEY="")
    assert proc.returncode == 2
    assert "GRADTRACK_PSEUDONYM_KEY" in proc.stdout and not (tmp_path / "w.duckdb").exists()
