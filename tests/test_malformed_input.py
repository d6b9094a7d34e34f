"""Generated malformed landing files: whatever bytes a school sends, no traceback reaches the user and
no row goes missing. Every file is loaded or rejected by name; a loaded file accounts for every record
(read = loaded + quarantined), counted the way Python's csv module counts them."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.db import rows
from ingestion.loaders import load_landing
from ingestion.pseudonym import PseudonymKey
from tests.conftest import TEST_KEY, register_rows
from tests.test_ingestion import _people

VALID = register_rows(*_people(6)).encode("utf-8")
PIECES = [b'"', b";", b"\n", b"\r", b"\r\n", b'""', b"\xe9", b" ", b"x", b"\xc3\xa9", b'";"']
OPS = ["insert", "delete", "truncate"]
edits = st.lists(
    st.tuples(st.floats(0.1, 1.0), st.sampled_from(OPS), st.sampled_from(PIECES)),
    min_size=1,
    max_size=4,
)


def _mutate(plan: list[tuple[float, str, bytes]]) -> bytes:
    data = bytearray(VALID)
    for where, op, piece in plan:
        pos = min(int(where * len(data)), len(data))
        if op == "insert":
            data[pos:pos] = piece
        elif op == "delete" and pos < len(data):
            del data[pos]
        elif op == "truncate":
            data = data[:pos]
    return bytes(data)


def _records(data: bytes) -> int:
    """Data records as Python's csv module reads them (empty lines are no records; a line of spaces
    or a lone quote is one, which the loader quarantines)."""
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    found = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=";") if r]
    return max(len(found) - 1, 0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits)
def test_every_generated_register_is_loaded_in_full_or_rejected_by_name(plan):
    data = _mutate(plan)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "landing"
        (root / "register").mkdir(parents=True)
        (root / "register" / "es.csv").write_bytes(data)
        con = duckdb.connect()
        try:
            (report,) = load_landing(con, root, PseudonymKey.resolve(TEST_KEY), raise_on_failure=False)
            logged = rows(con, "select status, rows_read, rows_loaded, rows_quarantined from audit.load_log")
            lines = [
                line
                for (line,) in rows(con, "select _source_line from raw.register")
                + rows(con, "select distinct line from audit.quarantine where not row_kept")
            ]
        finally:
            con.close()
    assert logged == [(report.status, report.rows_read, report.rows_loaded, report.rows_quarantined)]
    if report.status == "rejected":
        assert report.message and not report.message.startswith("could not be read ("), report.message
        return
    assert report.status == "loaded"
    assert report.rows_read == report.rows_loaded + report.rows_quarantined == _records(data), (
        report,
        data,
    )
    physical = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1
    assert len(set(lines)) == len(lines) and all(2 <= n <= physical for n in lines if n is not None)
