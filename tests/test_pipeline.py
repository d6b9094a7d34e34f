"""The whole pipeline on generated sample data, through the real CLI, Dagster (recording in an
instance with the project's dagster.yaml) and dbt: a backfill of two cohorts in one run, what it
leaves behind, then a re-run of one cohort that leaves the other exactly as it was."""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
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


def _school_named_by_an_email(landing: Path, bad: Path) -> str:
    """Copy `landing` to `bad` with a graduate's e-mail as a school name (the privacy check's case)."""
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
    return email


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
    email = _school_named_by_an_email(landing, bad)

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


# ------------------------------------------------- every way a run starts: failures and kill -9


def _files(*paths: Path) -> dict[str, str]:
    """Content hash of every file at or under these paths, by its path from the path's parent."""
    found = {}
    for path in paths:
        for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            found[file.relative_to(path.parent).as_posix()] = hashlib.sha256(file.read_bytes()).hexdigest()
    return found


def _kill_when(command: list[str], env: dict[str, str], marker: str, after: float) -> str:
    """Start `command` in a session of its own and SIGKILL the whole session (dbt too) `after`
    seconds after a line of its output contains `marker`; the output seen until then."""
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if marker in line:
                time.sleep(after)
                break
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert any(marker in line for line in seen), "".join(seen[-40:])
    return "".join(seen)


def _dagster_env(tmp: Path, landing: Path, warehouse: Path, reports: Path) -> dict[str, str]:
    """The environment `make dev` gives the UI (and so its schedules and sensor) on these files."""
    env = gradtrack_env(tmp)
    env.update(
        DAGSTER_HOME=str(tmp / "dagster_home"),
        GRADTRACK_LANDING=str(landing),
        GRADTRACK_WAREHOUSE=str(warehouse),
        GRADTRACK_ANALYST_DATABASE=str(warehouse.with_name(warehouse.stem + ".analyst" + warehouse.suffix)),
        GRADTRACK_REPORTS=str(reports),
    )
    return env


# A run executed by Dagster itself (the run worker of a UI, schedule, sensor or backfill run runs
# the same definitions, executor and resources), not through `gradtrack run`.
DAGSTER_RUN = [str(Path(sys.executable).with_name("dagster")), "asset", "materialize", "-m"]
DAGSTER_RUN += ["orchestration.definitions", "--select", "*", "--partition", "2019"]


DBT_STEP = "warehouse_models"


def _links_resolve(site: Path) -> list[str]:
    """Links of the site's top index that point at no file."""
    index = (site / "index.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"#:]+)"', index)
    assert hrefs
    return [h for h in hrefs if not (site / h).is_file()]


def test_kill_9_at_each_stage_leaves_every_published_file_and_the_next_run_cleans_up(backfilled, tmp_path):
    """`kill -9` during ingestion, dbt and the report site of `gradtrack run`, and during dbt of a
    run Dagster executes itself: the warehouse, the analysts' database and the report site stay
    byte-identical each time, and the next run succeeds and removes what the killed ones left."""
    src = backfilled["warehouse"]
    wh = tmp_path / "wh" / src.name
    wh.parent.mkdir()
    for f in (src, src.with_name(src.stem + ".analyst" + src.suffix)):
        shutil.copy2(f, wh.parent / f.name)
    site = tmp_path / "site"
    shutil.copytree(backfilled["site"], site)
    landing = backfilled["tmp"] / "landing"
    published = [wh, wh.with_name(f"{wh.stem}.analyst{wh.suffix}"), site]  # what readers open
    before = _files(*published)
    env = gradtrack_env(tmp_path)
    env["DAGSTER_HOME"] = str(backfilled["tmp"] / "dagster_home")
    command = [GRADTRACK, "run", "--landing", str(landing), "--warehouse", str(wh), "--reports", str(site)]
    for marker, after in (("raw/register: started", 0.5), (f"{DBT_STEP}: started", 8.0)):
        _kill_when(command, env, marker, after)
        assert _files(*published) == before, f"killed after {marker!r}"
    home = backfilled["tmp"] / "dagster_home"
    _kill_when(DAGSTER_RUN, _dagster_env(backfilled["tmp"], landing, wh, site), f'step "{DBT_STEP}"', 8.0)
    assert _files(*published) == before, "killed during a run Dagster executed"
    assert [p.name for p in wh.parent.iterdir() if ".building" in p.name]  # what the kills left
    # The report site comes after the warehouse was built and swapped in: only the site must hold.
    _kill_when(command, env, "reports/site: started", 1.5)
    assert _files(site) == _files(backfilled["site"]) and (tmp_path / "site.building").is_dir()

    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert sorted(p.name for p in wh.parent.iterdir()) == sorted(
        [wh.name, f"{wh.stem}.analyst{wh.suffix}", f"{wh.name}.lock", f"{wh.stem}.run.log"]
    )
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("site")) == ["site"]
    assert (site / "2019" / "index.html").is_file() and not _links_resolve(site)
    # The killed runs are marked failed by the next one, and their pool slots freed (or it would
    # wait for ever): the UI shows what happened.
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"gradtrack/warehouse": str(wh.resolve())}))
        statuses = sorted(r.status.value for r in runs)
        pending = instance.event_log_storage.get_concurrency_info("duckdb_warehouse").active_slot_count
    finally:
        instance.dispose()
    assert statuses == ["FAILURE"] * 4 + ["SUCCESS"] * 3, statuses
    assert pending == 0


def _dagster_run(tmp: Path, landing: Path, warehouse: Path) -> subprocess.CompletedProcess:
    """DAGSTER_RUN to the end, on these files (the site under `tmp`)."""
    env = _dagster_env(tmp, landing, warehouse, tmp / "site")
    return subprocess.run(DAGSTER_RUN, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def test_a_run_dagster_executes_itself_builds_on_a_copy_as_the_cli_does(built, tmp_path):
    """What the UI, a schedule, the sensor or a backfill starts: a failed run (a blocking check)
    leaves both databases byte-identical and no working copy; a good one publishes them, private."""
    landing, warehouse, proc = built
    assert proc.returncode == 0
    wh = tmp_path / "wh" / warehouse.name
    wh.parent.mkdir()
    analyst = wh.with_name(wh.stem + ".analyst" + wh.suffix)
    for f in (warehouse, warehouse.with_name(analyst.name)):
        shutil.copy2(f, wh.parent / f.name)
    before = _files(wh, analyst)
    bad = tmp_path / "bad"
    email = _school_named_by_an_email(landing, bad)

    failed = _dagster_run(tmp_path, bad, wh)
    assert failed.returncode != 0
    assert "no_personal_values_outside_restricted" in failed.stderr
    assert "the live warehouse is unchanged" in failed.stderr
    assert email not in failed.stdout + failed.stderr
    assert _files(wh, analyst) == before
    assert not [p.name for p in wh.parent.iterdir() if ".building" in p.name]

    good = _dagster_run(tmp_path, landing, wh)
    assert good.returncode == 0, good.stderr[-3000:]
    assert f"published {analyst}, {wh}" in good.stderr
    assert _files(wh)[wh.name] != before[wh.name] and _files(analyst)[analyst.name] != before[analyst.name]
    assert stat.S_IMODE(wh.stat().st_mode) == 0o600 and stat.S_IMODE(analyst.stat().st_mode) == 0o640
    assert not [p.name for p in wh.parent.iterdir() if ".building" in p.name]
    assert not _links_resolve(tmp_path / "site")  # the run's report site, written and swapped in


# ------------------------------------------------------------------ erasure of one graduate (art. 17)


def _a_linked_graduate(warehouse: Path) -> dict[str, str]:
    """Identifiers of a graduate of 2019 with linked survey responses and admin spells."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute(
            """select r.national_id, r.school_code, r.student_id, r.email_norm,
                      r.first_name || ' ' || r.last_name, r._source_file
               from restricted.register_identifiers r
               join raw.register g using (graduate_key)
               where r.cohort = 2019 and r.national_id is not null and r.email_norm is not null
                 and exists (select 1 from restricted.linkage_crosswalk c
                             where c.graduate_key = r.graduate_key)
                 and exists (select 1 from raw.employment_spells s where s.person_key = g.person_key)
               order by r.graduate_key limit 1"""
        ).fetchall()[0]
    finally:
        con.close()
    return dict(zip(["national_id", "school", "student_id", "email", "name", "file"], row, strict=True))


def _holding(folder: Path, values: list[str]) -> list[str]:
    """Files under `folder` whose bytes hold one of `values` (as given, lower or upper case)."""
    needles = {v.encode() for value in values for v in (value, value.lower(), value.upper())}
    return [str(p) for p in folder.rglob("*") if p.is_file() and any(n in p.read_bytes() for n in needles)]


def test_erase_removes_a_graduate_from_every_file_and_a_re_sent_file_does_not_bring_them_back(
    built, tmp_path
):
    landing, warehouse, proc = built
    assert proc.returncode == 0
    wh = tmp_path / "wh" / warehouse.name
    wh.parent.mkdir()
    for f in (warehouse, warehouse.with_name(f"{warehouse.stem}.analyst{warehouse.suffix}")):
        shutil.copy2(f, wh.parent / f.name)
    person = _a_linked_graduate(wh)
    values = [person["national_id"], person["email"], person["name"]]
    assert _holding(wh.parent, values)  # the control: the warehouse holds them before
    con = duckdb.connect(str(wh), read_only=True)
    graduates = con.execute("select count(*) from marts.dim_graduate where cohort = 2019").fetchall()[0][0]
    con.close()
    env = gradtrack_env(tmp_path)
    erase = [GRADTRACK, "erase", "--warehouse", str(wh)]

    def call(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*erase, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)

    before = _files(wh)
    nobody = call("--national-id", "00000000T")
    assert nobody.returncode == 1 and "Nothing was changed" in nobody.stdout and _files(wh) == before
    refused = call("--student-id", "x")
    assert refused.returncode == 2 and "--school" in refused.stdout

    done = call("--national-id", person["national_id"])
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert "No byte of their identifiers is left" in done.stdout
    assert not [v for v in values if v in out]  # the console never shows them
    assert _holding(wh.parent, values) == []  # warehouse, analysts' database, run log, report site
    assert (wh.parent / "reports" / "index.html").is_file()
    con = duckdb.connect(str(wh), read_only=True)
    try:
        left = con.execute("select count(*) from marts.dim_graduate where cohort = 2019").fetchall()[0][0]
        logged = con.execute("select sum(rows_removed) from audit.erasure_log").fetchall()[0][0]
        markers = con.execute("select count(*) from restricted.erasures").fetchall()[0][0]
    finally:
        con.close()
    assert left == graduates - 1 and logged >= 3 and markers >= 3

    # The school re-sends its register (new content, same graduates): the person is not loaded.
    resent = tmp_path / "landing"
    shutil.copytree(landing, resent)
    with (resent / person["file"]).open("a", encoding="utf-8") as f:
        f.write("\n")
    again = _run(tmp_path, resent, wh, 2019)
    assert again.returncode == 0, again.stdout[-3000:]
    con = duckdb.connect(str(wh), read_only=True)
    try:
        quarantined = con.execute(
            "select file, value from audit.quarantine where reason like 'erased on request%'"
        ).fetchall()
        back = con.execute("select count(*) from marts.dim_graduate where cohort = 2019").fetchall()[0][0]
    finally:
        con.close()
    assert quarantined == [(person["file"], None)] and back == graduates - 1
    assert _holding(wh.parent, values) == []
