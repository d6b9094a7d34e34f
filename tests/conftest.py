"""Shared fixtures: a pseudonym key, landing folders written from literal text, a loader."""

from __future__ import annotations

import os
from collections.abc import Callable
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
