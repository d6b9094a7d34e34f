"""Keyed pseudonyms: correct HMAC, key handling, and no personal value outside `restricted`."""

from __future__ import annotations

import duckdb
import pytest

from ingestion.db import rows, scalar
from ingestion.privacy import personal_value_leaks
from ingestion.pseudonym import MissingKeyError, PseudonymKey
from tests.conftest import TEST_KEY, register_rows
from tests.test_ingestion import ANA, LUIS


@pytest.mark.parametrize("secret", ["k" * 16, "a much longer secret " * 5, "clé-avec-accents-ñ"])
def test_sql_hmac_equals_python_hmac(secret):
    key = PseudonymKey.resolve(secret)
    con = duckdb.connect()
    key.install(con)
    for value in ["ES-LAB|S1", "José Muñiz", "12345678Z", "x" * 200]:
        assert scalar(con, "select pseudonym('graduate', ?)", [value]) == key.python_hmac("graduate|" + value)
    assert scalar(con, "select pseudonym('person', null)") is None
    assert scalar(con, "select pseudonym('person', '  ')") is None


def test_pseudonyms_depend_on_key_and_domain():
    a, b = PseudonymKey.resolve("a" * 16), PseudonymKey.resolve("b" * 16)
    assert a.python_hmac("person|1") != b.python_hmac("person|1")
    assert a.python_hmac("person|1") != a.python_hmac("employer|1")


def test_key_from_file_and_refusals(tmp_path):
    f = tmp_path / "k.key"
    f.write_text("file-secret-0123456789\n")
    for mode in (0o644, 0o640, 0o604, 0o620):  # anyone but the owner may read or change it
        f.chmod(mode)
        with pytest.raises(MissingKeyError, match=f"other users \\(mode {mode:03o}\\).*chmod 600"):
            PseudonymKey.resolve(None, str(f))
    f.chmod(0o600)
    assert PseudonymKey.resolve(None, str(f)).secret == b"file-secret-0123456789"
    f.chmod(0o400)
    assert PseudonymKey.resolve(None, str(f)).secret == b"file-secret-0123456789"
    with pytest.raises(MissingKeyError, match="GRADTRACK_PSEUDONYM_KEY"):
        PseudonymKey.resolve(None, None)
    with pytest.raises(MissingKeyError, match="does not exist"):
        PseudonymKey.resolve(None, str(tmp_path / "missing.key"))
    with pytest.raises(MissingKeyError, match="at least 16"):
        PseudonymKey.resolve("short")
    assert "secret" not in repr(PseudonymKey.resolve("s" * 20)).replace("<secret>", "")


def test_keys_join_register_and_admin_without_raw_ids(landing, load, warehouse, key):
    root = landing(
        {
            "register/es.csv": register_rows(ANA, LUIS),
            "admin/ee.csv": (
                "national_id,spell_start,contract_type,source,extracted_on\n"
                "1234-5678 z,2019-07-01,permanent,x,2021-01-01\n"
            ),
        }
    )
    load(root)
    # The admin id written with dashes, spaces and lower case still meets its register row.
    joined = rows(
        warehouse,
        "select r.school_code from raw.register r join raw.employment_spells s using (person_key)",
    )
    assert joined == [("ES-LAB",)]
    expected = key.python_hmac("graduate|ES-LAB|S1")
    assert scalar(warehouse, "select count(*) from raw.register where graduate_key = ?", [expected]) == 1


def test_no_register_personal_value_outside_restricted(landing, load, warehouse):
    load(landing({"register/es.csv": register_rows(ANA, LUIS)}))
    assert scalar(warehouse, "select count(*) from restricted.register_identifiers") == 2
    assert personal_value_leaks(warehouse) == []
    # The scan itself must be able to fail: plant a value and see it found.
    warehouse.execute("create schema leak; create table leak.t as select 'JOSE.MUNIZ@mail.es ' as x")
    assert personal_value_leaks(warehouse) == [("leak", "t", "x", 1)]


def test_test_key_is_used(key):
    assert key.secret == TEST_KEY.encode()
