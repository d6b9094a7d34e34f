"""The whole pipeline on generated sample data, through the real CLI, Dagster (recording in an
instance with the project's dagster.yaml) and dbt: a backfill of two cohorts in one run, what it
leaves behind, then a re-run of one cohort that leaves the other exactly as it was."""

from __future__ import annotations

import csv
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingestion.privacy import personal_value_leaks
from ingestion.sample import generate
from tests.conftest import ROOT, gradtrack_env

GRADTRACK = str(Path(sys.executable).with_name("gradtrack"))


# Every mart with a cohort column.
COHORT_MARTS = [
    "indicators",
    "plan_status_transitions",
    "fct_graduate_outcomes",
    "fct_survey_responses",
    "dim_graduate",
]


def _run(
    tmp: Path,
    landing: Path,
    warehouse: Path,
    *cohorts: int,
    reports: Path | None = None,
    **env_overrides: str,
) -> subprocess.CompletedProcess:
    env = gradtrack_env(tmp)
    env["DAGSTER_HOME"] = str(tmp / "dagster_home")
    env.update(env_overrides)
    # Report pages have their own tests (tests/test_reports_*.py); here only the re-run writes a site.
    args = [GRADTRACK, "run", "--landing", str(landing), "--warehouse", str(warehouse)]
    args += ["--reports", str(reports)] if reports else ["--skip-reports"]
    return subprocess.run(
        args + [a for c in cohorts for a in ("--cohort", str(c))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    tmp = tmp_path_factory.mktemp("pipeline")
    (tmp / "dagster_home").mkdir()
    (tmp / "dagster_home" / "dagster.yaml").write_bytes(
        (ROOT / "orchestration" / "dagster.yaml").read_bytes()
    )
    landing, warehouse = tmp / "landing", tmp / "wh" / "gradtrack.duckdb"
    generate(landing, graduates=200, cohorts=[2019, 2020], seed=7)
    return landing, warehouse, _run(tmp, landing, warehouse, 2019, 2020)


def test_run_succeeds_and_prints_per_file_summary(built):
    landing, warehouse, proc = built
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert warehouse.exists() and not warehouse.with_name("gradtrack.building.duckdb").exists()
    for f in landing.rglob("*.csv"):
        assert f.relative_to(landing).as_posix() in proc.stdout.replace("\n", "") or f.name in proc.stdout


def test_warehouse_and_log_are_not_world_readable(built):
    """The warehouse (restricted schema) and the run log are the owner's; the analysts' database is
    also the group's; none is readable by every user of the machine."""
    _, warehouse, proc = built
    assert proc.returncode == 0
    analyst = warehouse.with_name(warehouse.stem + ".analyst" + warehouse.suffix)
    log = warehouse.with_name(warehouse.stem + ".run.log")
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (warehouse, analyst, log)}
    assert modes == {warehouse.name: 0o600, analyst.name: 0o640, log.name: 0o600}


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
    assert n_register > 0.95 * 400  # 200 graduates in each of two cohorts
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


def _late_graduate_with_bad_birth_date(landing: Path) -> Path:
    """A one-graduate register file of an existing school whose birth date cannot exist."""
    source = sorted((landing / "register").glob("*.csv"))[0]
    header, first = source.read_bytes().splitlines()[:2]
    sep = b";" if header.count(b";") > header.count(b",") else b","
    names = header.removeprefix(b"\xef\xbb\xbf").decode("latin-1").lower().split(sep.decode())
    fields = first.split(sep)
    fields[names.index("student_id")] = b"ZZ-LATE-1"
    fields[names.index("birth_date")] = b"29/02/1994"
    late = landing / "register" / ("zz_late" + source.name[source.name.rindex("_") :])
    late.write_bytes(header + b"\n" + sep.join(fields) + b"\n")
    return late


def test_unreadable_file_is_rejected_and_every_other_file_still_builds(built, tmp_path):
    """One school's unreadable file never stops the others: it is rejected, named, and the run ends
    with exit code 3 (finished with rejected files) with every other school's figures built. A row
    with an unreadable optional value loads, and the summary says a value was emptied."""
    landing, warehouse, proc = built
    assert proc.returncode == 0
    con = duckdb.connect(str(warehouse), read_only=True)
    graduates = con.execute("select count(*) from raw.register").fetchone()[0]
    con.close()
    broken = landing / "register" / "zz_broken.csv"
    broken.write_text("student_id;school_code\nX1;ES-X\n", encoding="utf-8")
    late = _late_graduate_with_bad_birth_date(landing)
    # Files no source reads are named, not skipped in silence; names from the data are not markup.
    misplaced = [landing / "surveys" / "m12" / "[bold]late.csv", landing / "Register" / "es_x.csv"]
    for path in misplaced:
        path.parent.mkdir()
        path.write_bytes(broken.read_bytes())
    try:
        partial = _run(tmp_path, landing, warehouse)
    finally:
        for path in [broken, late, *misplaced]:
            path.unlink()
            if not any(path.parent.iterdir()):
                path.parent.rmdir()
    assert partial.returncode == 3, partial.stdout[-2000:] + partial.stderr[-2000:]
    out = partial.stdout.replace("\n", " ")
    flat = " ".join(partial.stdout.split())
    assert (
        "Warning: ignored surveys/m12/[bold]late.csv: surveys/m12/ is not a wave folder "
        "(pre_graduation, m6, m18; lower case)" in flat
    )
    assert "Warning: ignored Register/es_x.csv: folder Register/ is not register/" in flat
    assert "zz_broken.csv" in out and "rejected" in out
    assert "1 unreadable optional value(s) emptied, rows kept" in " ".join(out.replace("│", " ").split())
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from raw.register").fetchone()[0] == graduates + 1
        status = con.execute(
            "select status from audit.load_log where file like '%zz_broken.csv' order by started_at desc"
        ).fetchone()
        schools = con.execute("select distinct school_code from raw.register").fetchall()
        with_figures = con.execute(
            "select distinct breakdown_value from marts.indicators where breakdown = 'school' "
            "and indicator = 'graduates' and value > 0"
        ).fetchall()
        kept = con.execute(
            "select column_name, row_kept from audit.quarantine where file like '%zz_late%'"
        ).fetchall()
        ignored = con.execute(
            "select file from audit.load_log where status = 'ignored' and source = 'landing' order by 1"
        ).fetchall()
    finally:
        con.close()
    assert status == ("rejected",)
    assert ignored == [("Register/es_x.csv",), ("surveys/m12/[bold]late.csv",)]
    assert sorted(with_figures) == sorted(schools)  # every readable school's figures are built
    assert kept == [("birth_date", True)]


def test_a_failed_report_site_keeps_the_warehouse_just_built(built, tmp_path):
    """Reports are downstream of the warehouse, not part of its transaction: when the site cannot be
    written at all (here --reports names a file), the run's warehouse is kept and the exit code is 4."""
    landing, warehouse, proc = built
    assert proc.returncode == 0

    def runs() -> int:
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            return con.execute("select count(*) from audit.load_log").fetchall()[0][0]
        finally:
            con.close()

    before = runs()
    not_a_folder = tmp_path / "reports"
    not_a_folder.write_text("a file where the site should go\n", encoding="utf-8")
    failed = _run(tmp_path, landing, warehouse, reports=not_a_folder)
    assert failed.returncode == 4, failed.stdout[-3000:]
    assert "report site failed" in failed.stdout and "warehouse of this run was kept" in failed.stdout
    assert runs() > before  # this run's load log is in: its warehouse was swapped in
    assert warehouse.with_name(warehouse.stem + ".analyst" + warehouse.suffix).is_file()
    assert not warehouse.with_name(warehouse.stem + ".building" + warehouse.suffix).exists()


def test_a_run_failed_by_a_blocking_check_leaves_both_databases_byte_identical(built, tmp_path):
    """A school name that is a graduate's e-mail would carry a personal value out of restricted: the
    privacy check fails the run, the CLI names the check and the columns (never the value), and the
    last good warehouse and analysts' database are left exactly as they were, byte for byte."""
    landing, warehouse, proc = built
    assert proc.returncode == 0
    analyst = warehouse.with_name(warehouse.stem + ".analyst" + warehouse.suffix)
    (tmp_path / "wh").mkdir()
    kept = [shutil.copy2(f, tmp_path / "wh" / f.name) for f in (warehouse, analyst)]
    before = [Path(f).read_bytes() for f in kept]
    bad = tmp_path / "landing"
    shutil.copytree(landing, bad)
    register = sorted((bad / "register").glob("*.csv"))[0]
    with register.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    email = rows[1]["email"]
    rows[0]["school_name"] = email
    with register.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    failed = _run(tmp_path, bad, Path(kept[0]))
    out = " ".join(failed.stdout.split())
    assert failed.returncode == 1, failed.stdout[-3000:]
    assert "Run failed; the warehouse was left as it was." in out
    assert "no_personal_values_outside_restricted" in out and "raw.register.school_name (1 rows)" in out
    assert email not in failed.stdout + failed.stderr
    assert [Path(f).read_bytes() for f in kept] == before
    assert not [p.name for p in (tmp_path / "wh").iterdir() if ".building" in p.name]  # no working copy left


def test_a_run_with_another_key_is_refused_and_changes_nothing(built, tmp_path):
    """The same key for every load of a warehouse: another one would give every graduate a new
    pseudonym and silently cut the links to what is loaded (a school's spells 37 -> 0)."""
    landing, warehouse, proc = built
    assert proc.returncode == 0
    (tmp_path / "wh").mkdir()
    copy = Path(shutil.copy2(warehouse, tmp_path / "wh" / warehouse.name))
    before = copy.read_bytes()
    refused = _run(tmp_path, landing, copy, GRADTRACK_PSEUDONYM_KEY="another-key-0123456789-abcdef")
    out = " ".join(refused.stdout.split())
    assert refused.returncode == 2, refused.stdout[-3000:]
    assert "built with another pseudonymisation key" in out and "nothing was done" in out
    assert copy.read_bytes() == before
    assert not [p.name for p in copy.parent.iterdir() if ".building" in p.name or ".analyst" in p.name]


def test_run_without_key_stops_with_instructions(built, tmp_path):
    landing, _, _ = built
    proc = _run(tmp_path, landing, tmp_path / "w.duckdb", GRADTRACK_PSEUDONYM_KEY="")
    assert proc.returncode == 2
    assert "GRADTRACK_PSEUDONYM_KEY" in proc.stdout and not (tmp_path / "w.duckdb").exists()


# --------------------------------------------------------------------------- cohort partitions


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
    second = _run(tmp, landing, warehouse, 2020, reports=tmp / "site")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    return {
        "tmp": tmp,
        "warehouse": warehouse,
        "first": first,
        "second": second,
        "before": before,
        "after": _fingerprints(warehouse),
        "late": late.relative_to(landing).as_posix(),
        "site": tmp / "site",
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


def test_a_cohort_run_writes_that_cohorts_report_site(backfilled):
    site = backfilled["site"]
    second = backfilled["second"]
    assert f"Reports: {site / 'index.html'}" in second.stdout.replace("\n", "")
    # The report step prints progress lines like the warehouse step, not Dagster's debug events.
    assert "reports/site: done" in second.stderr
    assert " - dagster - " not in second.stdout + second.stderr
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "2020/index.html" in index
    assert not (site / "2019").exists()  # the partition run rendered its own cohort only
    schools = list((site / "2020").glob("school__*.html"))
    assert schools and all(p.with_suffix(".md").exists() for p in schools)
    for language in ("en", "es", "et", "it", "nl"):
        assert list((site / "2020" / language).glob("student_summary__*.html")), language
    assert list((site / "2020").glob("policy__*.html"))
    assert list((site / "2020" / "exports").glob("*.xlsx"))
