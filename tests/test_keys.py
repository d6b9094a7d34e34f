"""A warehouse remembers its key's fingerprint and refuses a load with another key."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from ingestion.loaders import load_landing
from ingestion.pseudonym import KeyMismatchError, PseudonymKey
from tests.conftest import register_rows
from tests.test_ingestion import ANA


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_another_key_is_refused_before_anything_is_written(landing, tmp_path: Path) -> None:
    root = landing({"register/a.csv": register_rows(ANA)})
    path = tmp_path / "k.duckdb"
    key_a, key_b = PseudonymKey.resolve("a" * 20), PseudonymKey.resolve("b" * 20)
    con = duckdb.connect(str(path))
    load_landing(con, root, key_a)
    recorded = con.execute("select fingerprint from restricted.key_fingerprint").fetchall()
    graduates = con.execute("select count(*) from raw.register").fetchall()
    con.close()
    assert recorded == [(key_a.fingerprint(),)] and graduates == [(1,)]
    assert key_a.fingerprint() != key_b.fingerprint()
    assert key_a.secret.decode() not in key_a.fingerprint()

    before = _digest(path)
    with pytest.raises(KeyMismatchError, match=f"{key_a.fingerprint()}.*{key_b.fingerprint()}"):
        key_b.check_file(path)
    assert _digest(path) == before  # the CLI's check opens the file read-only
    con = duckdb.connect(str(path))
    with pytest.raises(KeyMismatchError, match="another pseudonymisation key"):
        load_landing(con, root, key_b)
    rows_after = con.execute("select count(*) from raw.register").fetchall()
    con.close()
    assert rows_after == [(1,)]
    key_a.check_file(path)  # the warehouse's own key passes, and a new warehouse passes any key
    key_b.check_file(tmp_path / "new.duckdb")
    con = duckdb.connect(str(path))
    load_landing(con, root, key_a)  # and loads again
    assert con.execute("select count(*) from restricted.key_fingerprint").fetchall() == [(1,)]
    con.close()


def test_fingerprint_stays_out_of_the_analysts_schemas() -> None:
    from orchestration.defs.warehouse.analyst import ANALYST_SCHEMAS

    assert "restricted" not in ANALYST_SCHEMAS
