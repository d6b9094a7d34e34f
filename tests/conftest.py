"""Shared fixtures: a pseudonym key, landing folders written from literal text, a loader, and a
warehouse built once per session by the real pipeline for the report tests."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from ingestion.loaders import FileReport, load_landing
from ingestion.pseudonym import PseudonymKey

TEST_KEY = "test-key-0123456789-not-secret"
ROOT = Path(__file__).resolve().parents[1]

REGISTER_HEADER = (
    "student_id;school_code;school_name;country;region;national_id;first_name;last_name;"
    "birth_date;sex;email;phone;qualification_code;qualification_name;eqf_level;"
    "professional_family;sector_group;cohort;graduation_date;language"
)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every test sees the same test key and keeps dbt's files in its own tmp folder."""
    monkeypatch.setenv("GRADTRACK_PSEUDONYM_KEY", TEST_KEY)
    monkeypatch.delenv("GRADTRACK_PSEUDONYM_KEY_FILE", raising=False)
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt_target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "dbt_logs"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir(exist_ok=True)


@pytest.fixture
def key() -> PseudonymKey:
    return PseudonymKey.resolve(TEST_KEY)


@pytest.fixture
def landing(tmp_path: Path) -> Callable[..., Path]:
    """Write files into a landing folder: landing({"register/a.csv": "text" or b"bytes"})."""
    root = tmp_path / "landing"

    def write(files: dict[str, str | bytes], encoding: str = "utf-8") -> Path:
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return root

    return write


@pytest.fixture
def warehouse(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield con
    con.close()


@pytest.fixture
def load(warehouse, key) -> Callable[[Path], list[FileReport]]:
    def run(root: Path, raise_on_failure: bool = False) -> list[FileReport]:
        return load_landing(warehouse, root, key, raise_on_failure=raise_on_failure)

    return run


def register_rows(*rows: str) -> str:
    return REGISTER_HEADER + "\n" + "\n".join(rows) + "\n"


def gradtrack_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GRADTRACK_PSEUDONYM_KEY=TEST_KEY,
        DBT_TARGET_PATH=str(tmp_path / "dbt_target"),
        DBT_LOG_PATH=str(tmp_path / "dbt_logs"),
    )
    return env


# --------------------------------------------------------------------------- a real warehouse

#: The report tests' sample: `make demo`'s (the generator's eight schools, 2,000 graduates, two
#: cohorts, seed 42), built by the real pipeline once per test session, so that what the tests
#: assert is what a new user sees.
REPORT_SAMPLE_GRADUATES = 2000
REPORT_SAMPLE_COHORTS = (2019, 2020)
#: A deliberately small group: this many graduates of cohort 2019 get sex X.
SMALL_GROUP_SEX_X = 4


@dataclass(frozen=True)
class PipelineBuild:
    """A warehouse the real pipeline built (`gradtrack run`), and the landing folder it read."""

    landing: Path
    warehouse: Path
    tmp: Path


def read_landing_csv(path: Path) -> tuple[list[list[str]], str, str, bool]:
    """A landing CSV as rows, with what it takes to write it back the same way."""
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        text, encoding = raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = raw.decode("latin-1"), "latin-1"
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)), delimiter, encoding, bom


def write_landing_csv(path: Path, rows: list[list[str]], delimiter: str, encoding: str, bom: bool) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    data = buffer.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)


def set_sex_x(landing: Path, cohort: int, count: int) -> int:
    """Give ``count`` graduates of ``cohort`` (the first rows of the largest register) sex X."""
    register = max((landing / "register").glob(f"*_{cohort}.csv"), key=lambda p: p.stat().st_size)
    rows, delimiter, encoding, bom = read_landing_csv(register)
    sex = rows[0].index("sex")
    changed = 0
    for row in rows[1:]:
        if changed < count and row and row[sex] != "X":
            row[sex] = "X"
            changed += 1
    write_landing_csv(register, rows, delimiter, encoding, bom)
    return changed


def run_pipeline(tmp: Path, landing: Path, warehouse: Path, *cohorts: int) -> subprocess.CompletedProcess:
    """`gradtrack run` on a landing folder, warehouse only (the tests render the reports)."""
    home = tmp / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_bytes((ROOT / "orchestration" / "dagster.yaml").read_bytes())
    env = gradtrack_env(tmp)
    env["DAGSTER_HOME"] = str(home)
    args = [str(Path(sys.executable).with_name("gradtrack")), "run", "--landing", str(landing)]
    args += ["--warehouse", str(warehouse), "--skip-reports"]
    args += [a for c in cohorts for a in ("--cohort", str(c))]
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)


@pytest.fixture(scope="session")
def pipeline_warehouse(tmp_path_factory: pytest.TempPathFactory) -> PipelineBuild:
    """The report tests' warehouse, built once by the real pipeline from generated data with one
    deliberately small group (4 more graduates of 2019 with sex X, under the threshold)."""
    from ingestion.sample import generate

    tmp = tmp_path_factory.mktemp("report_sample")
    landing, warehouse = tmp / "landing", tmp / "wh" / "gradtrack.duckdb"
    generate(landing, graduates=REPORT_SAMPLE_GRADUATES, cohorts=list(REPORT_SAMPLE_COHORTS), seed=42)
    assert set_sex_x(landing, 2019, SMALL_GROUP_SEX_X) == SMALL_GROUP_SEX_X
    proc = run_pipeline(tmp, landing, warehouse, *REPORT_SAMPLE_COHORTS)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return PipelineBuild(landing, warehouse, tmp)
