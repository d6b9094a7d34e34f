"""Read one landing CSV the way the tools that made it wrote it, with exact line numbers.

DuckDB's CSV reader does the parsing (quoting, embedded newlines, ragged rows go to its rejects
table). What DuckDB does not give is the *physical* line of each accepted record, which users need
to find a row in the file they sent; we derive it set-based from the bytes (numpy), not per row.
"""

from __future__ import annotations

import csv
import hashlib
import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from ingestion.db import scalar

UTF8_BOM = b"\xef\xbb\xbf"


class FileRejected(Exception):
    """A whole file cannot be read as the contract asks; nothing of it is loaded."""

    def __init__(self, file: str, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.problem = problem


@dataclass
class SniffedFile:
    """What we learnt about a file before parsing it."""

    path: Path  # the original file
    display: str  # the name users see in errors (relative to the landing folder)
    content_hash: str
    encoding: str
    delimiter: str
    header: list[str]  # normalised: stripped, lower case
    raw_header: list[str]
    readable_path: Path  # UTF-8 file DuckDB reads (the original or a transcoded copy)
    notes: list[str] = field(default_factory=list)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _decode(data: bytes) -> tuple[str, str]:
    """Return (encoding, text). UTF-8 (with or without BOM) first, then Windows-1252, then Latin-1."""
    if data.startswith(UTF8_BOM):
        return "utf-8-sig", data[len(UTF8_BOM) :].decode("utf-8")
    try:
        return "utf-8", data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return "windows-1252", data.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1", data.decode("latin-1")


def _first_record(text: str) -> str:
    end = text.find("\n")
    return text if end < 0 else text[:end]


def _detect_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def normalise_header(name: str) -> str:
    """Contract: column names match case-insensitively, surrounding spaces ignored."""
    return name.strip().lower()


@contextmanager
def sniff(path: Path, display: str) -> Iterator[SniffedFile]:
    """Detect encoding, delimiter and header; yield a UTF-8 file DuckDB can read.

    A transcoded copy lives in a temporary folder for the duration of the ``with`` block.
    """
    data = path.read_bytes()
    digest = content_hash(data)
    if not data.strip(b" \t\r\n" + UTF8_BOM):
        raise FileRejected(display, "the file is empty (no header line)")
    if b"\x00" in data[:65536]:
        raise FileRejected(display, "not a CSV text file (it contains NUL bytes; binary or UTF-16?)")
    encoding, text = _decode(data)
    header_line = _first_record(text).rstrip("\r")
    delimiter = _detect_delimiter(header_line)
    raw_header = next(csv.reader(io.StringIO(header_line), delimiter=delimiter))
    header = [normalise_header(h) for h in raw_header]
    if any(not h for h in header):
        col = header.index("") + 1
        raise FileRejected(display, f"line 1, column {col}: empty column name in the header")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise FileRejected(display, f"line 1: duplicate column names {dupes}")
    with tempfile.TemporaryDirectory(prefix="gradtrack-") as tmp:
        readable = path
        if encoding not in ("utf-8", "utf-8-sig"):
            readable = Path(tmp) / "transcoded.csv"
            readable.write_bytes(text.encode("utf-8"))
        yield SniffedFile(
            path=path,
            display=display,
            content_hash=digest,
            encoding=encoding,
            delimiter=delimiter,
            header=header,
            raw_header=raw_header,
            readable_path=readable,
        )


def _record_starts(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Byte offsets where non-blank records start (header included), and all newline offsets.

    A newline ends a record when an even number of quote characters precede it (an escaped quote
    ``""`` flips the parity twice, so it does not disturb the count).
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(arr == 10)
    if newlines.size == 0:
        return np.array([0], dtype=np.int64), newlines
    parity = np.bitwise_xor.accumulate((arr == 34).astype(np.uint8))
    breaks = newlines[parity[newlines] == 0]
    starts = np.concatenate(([0], breaks + 1)).astype(np.int64)
    starts = starts[starts < len(data)]
    # Blank records: the next byte is a newline, or "\r\n".
    nxt = arr[starts]
    blank = nxt == 10
    has2 = starts + 1 < len(data)
    blank |= (nxt == 13) & has2 & (arr[np.minimum(starts + 1, len(data) - 1)] == 10)
    blank |= (nxt == 13) & ~has2
    return starts[~blank], newlines


def read_records(con: duckdb.DuckDBPyConnection, sniffed: SniffedFile, table: str) -> tuple[int, list[dict]]:
    """Parse the file into temp table ``table`` (all VARCHAR + ``_line``); return rejects.

    Returns (accepted row count, structural rejects as dicts with line, column, reason, record).
    """
    columns = {name: "VARCHAR" for name in sniffed.header}
    rejects_table, rejects_scan = f"{table}_rj", f"{table}_rs"
    for t in (rejects_table, rejects_scan):
        con.execute(f"drop table if exists {t}")
    path = str(sniffed.readable_path).replace("'", "''")
    delim = sniffed.delimiter.replace("'", "''")
    con.execute(
        f"""
        create or replace temp table {table}_parsed as
        select row_number() over () as _rn, *
        from read_csv('{path}', delim='{delim}', quote='"', escape='"', header=true,
                      auto_detect=false, columns=$columns, store_rejects=true,
                      rejects_table='{rejects_table}', rejects_scan='{rejects_scan}',
                      null_padding=false, parallel=false, max_line_size=10000000)
        """,
        {"columns": columns},
    )
    rejects = con.execute(
        f"""select line_byte_position, column_idx, column_name, error_type, error_message, csv_line
            from {rejects_table} order by line_byte_position, column_idx"""
    ).fetchall()
    data = sniffed.readable_path.read_bytes()
    starts, newlines = _record_starts(data)
    record_starts = starts[1:]  # drop the header record

    # One rejects row per problem; a record can have several.
    reject_pos = np.array(sorted({r[0] for r in rejects}), dtype=np.int64)
    # DuckDB's line_byte_position can point a byte into the record: take the record starting at
    # or before it.
    idx = np.searchsorted(record_starts, reject_pos, side="right") - 1
    idx = np.clip(idx, 0, max(len(record_starts) - 1, 0))
    rejected_starts = record_starts[idx] if len(record_starts) else reject_pos
    accepted_n = scalar(con, f"select count(*) from {table}_parsed")
    keep = np.ones(len(record_starts), dtype=bool)
    if len(record_starts):
        keep[idx] = False
    accepted_starts = record_starts[keep]
    if len(accepted_starts) != accepted_n:
        # Our quote parity disagrees with DuckDB's parser (e.g. a stray quote inside an unquoted
        # field). Lines then count records, not physical lines; say so in the load log.
        sniffed.notes.append(
            "line numbers count records (the file has quotes that break physical line counting)"
        )
        lines = np.arange(2, accepted_n + 2, dtype=np.int64)
        reject_lines = {p: None for p in reject_pos}
    else:
        lines = np.searchsorted(newlines, accepted_starts, side="left") + 1
        reject_lines = dict(
            zip(
                reject_pos.tolist(),
                (np.searchsorted(newlines, rejected_starts, side="left") + 1).tolist(),
                strict=True,
            )
        )
    con.register(
        f"{table}_lines",
        pa.table({"_rn": pa.array(np.arange(1, accepted_n + 1)), "_line": pa.array(lines)}),
    )
    con.execute(
        f"""create or replace temp table {table} as
            select l._line, p.* exclude (_rn)
            from {table}_parsed p join {table}_lines l using (_rn) order by l._line"""
    )
    con.unregister(f"{table}_lines")
    con.execute(f"drop table {table}_parsed")
    out = []
    seen: set[tuple[int, str]] = set()
    for pos, col_idx, col_name, etype, msg, record in rejects:
        # A ragged record yields one DuckDB reject per missing column: report it once.
        if (pos, etype) in seen:
            continue
        seen.add((pos, etype))
        line = reject_lines.get(pos)
        out.append(
            {
                "line": int(line) if line is not None else None,
                "column": col_name if col_name else (f"#{col_idx}" if col_idx else None),
                "reason": f"{etype.lower()}: {msg}",
                "record": record,
                "pos": int(pos),
            }
        )
    for t in (rejects_table, rejects_scan):
        con.execute(f"drop table if exists {t}")
    return int(accepted_n), out
