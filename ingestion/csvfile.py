"""Read one landing CSV the way the tools that made it wrote it, with exact line numbers.

DuckDB's CSV reader does the parsing (quoting, embedded newlines, ragged rows go to its rejects
table). What DuckDB does not give is the *physical* line of each accepted record, which users need
to find a row in the file they sent; we derive it set-based from the bytes (numpy), not per row.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import re
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from ingestion.db import quote_literal, scalar

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
    readable_path: Path  # UTF-8 file DuckDB reads (the original, or a transcoded or decompressed copy)
    notes: list[str] = field(default_factory=list)
    # Byte offsets of the readable file's record starts and newlines (see _record_starts), computed
    # with the rest so that reading the records needs no second pass over the bytes.
    record_starts: np.ndarray | None = field(default=None, repr=False)
    newlines: np.ndarray | None = field(default=None, repr=False)
    # Every line break ends a record (none inside quotes, no bare CR), so DuckDB may split the file
    # between threads at any line without guessing whether it is inside a quoted field.
    single_line_records: bool = False
    tmp: tempfile.TemporaryDirectory | None = field(default=None, repr=False)  # holds a transcoded copy


def uncompressed_name(path: Path) -> Path:
    """`x.csv` for `x.csv.gz`: the name its mapping or survey structure file is found by."""
    return path.with_suffix("") if path.suffix.lower() == ".gz" else path


def _contract_names() -> set[str]:
    from ingestion.contract import ADMIN, CONTEXT, ES_TGSS, REGISTER, SURVEY

    return {n for spec in (REGISTER, SURVEY, ADMIN, ES_TGSS, CONTEXT) for n in spec.names} | {"token"}


def listed(names: list[str], at_most: int = 20) -> str:
    """Names for a message: the first `at_most`, then how many more (a file may have 10,000 columns)."""
    shown = ", ".join(names[:at_most])
    return shown + (f" and {len(names) - at_most} more" if len(names) > at_most else "")


def describe_header(header: list[str], known: set[str] | None = None) -> str:
    """The header cells for an error message, unless the first line looks like data.

    A file sent without its header row has a graduate's record there: printing it would put their
    identifiers on the console, in Dagster's run history and in `audit.load_log`.
    """
    known = _contract_names() if known is None else known
    hits = sum(h in known for h in header)
    if header and hits * 2 >= len(header):
        return "the header has: " + listed(header, 60)
    return (
        f"the first line does not look like a header (only {hits} of its {len(header)} cells are "
        "column names gradtrack knows), so its cells are not shown here: they may be a graduate's "
        "data. Is the header row missing?"
    )


def companion_files(path: Path) -> list[Path]:
    """The files read with a data file: its mapping (same stem, .yaml or .yml) and its LimeSurvey
    survey structure (same stem, or LimeSurvey's own `limesurvey_survey_<id>.lss` beside
    `results-survey<id>.csv`)."""
    base = uncompressed_name(path)
    candidates = [base.with_suffix(s) for s in (".yaml", ".yml", ".lss")]
    sid = re.fullmatch(r"results-survey(\d+)", base.stem)
    if sid:
        candidates.append(base.with_name(f"limesurvey_survey_{sid.group(1)}.lss"))
    return [c for c in candidates if c.is_file()]


def content_hash(data: bytes, companions: list[Path] | None = None) -> str:
    """Of the rows and of what they are read with: a changed mapping makes the file new again."""
    digest = hashlib.sha256(data)
    for companion in companions or []:
        digest.update(b"\0" + companion.suffix.encode() + b"\0" + companion.read_bytes())
    return digest.hexdigest()


# A byte sequence only UTF-8 writes: seen beside bytes that are not UTF-8, the file mixes encodings.
UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _decode(data: bytes, display: str) -> tuple[str, str]:
    """Return (encoding, text). UTF-8 (with or without BOM) first, then Windows-1252, then Latin-1.

    One encoding per file: a UTF-8 file with a stray Windows-1252 byte (a line pasted from another
    export) is refused at that byte, since reading it all as Windows-1252 would garble every other
    accented letter in it.
    """
    bom = data.startswith(UTF8_BOM)
    body = data[len(UTF8_BOM) :] if bom else data
    try:
        return ("utf-8-sig" if bom else "utf-8"), body.decode("utf-8")
    except UnicodeDecodeError as exc:
        if bom or UTF8_MULTIBYTE.search(body):
            raise FileRejected(display, _mixed_encoding(body, exc.start)) from exc
    try:
        return "windows-1252", data.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1", data.decode("latin-1")


def _mixed_encoding(body: bytes, at: int) -> str:
    line_start = body.rfind(b"\n", 0, at) + 1
    header = body[: body.find(b"\n")].decode("utf-8", errors="replace").rstrip("\r")
    delimiter = _detect_delimiter(header)
    column = body[line_start:at].count(delimiter.encode()) + 1
    names = header.split(delimiter)
    name = f" ({names[column - 1].strip()})" if column <= len(names) else ""
    line = body.count(b"\n", 0, at) + 1
    return (
        f"line {line}, column {column}{name}: byte 0x{body[at]:02X} is not UTF-8, "
        "while the rest of the file is UTF-8: the file mixes two encodings (rows pasted from another "
        "export?). Nothing of it was loaded; save it again in one encoding (UTF-8) and send it again."
    )


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


def prepare(path: Path, display: str) -> SniffedFile:
    """Detect encoding, delimiter and header; make a UTF-8 file DuckDB can read; find the records.

    Pure Python and numpy, no DuckDB: the loader runs it for the next file in a background thread
    while DuckDB loads the current one. A transcoded copy lives in ``tmp`` until ``sniff`` ends.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileRejected(display, f"cannot be read: {exc.strerror or exc}") from exc
    compressed = path.name.lower().endswith(".gz")
    if compressed:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise FileRejected(display, f"not a readable gzip file ({exc})") from exc
    # Of the content: the same rows sent compressed are the same file.
    digest = content_hash(data, companion_files(path))
    if not data.strip(b" \t\r\n" + UTF8_BOM):
        raise FileRejected(display, "the file is empty (no header line)")
    if b"\x00" in data[:65536]:
        raise FileRejected(display, "not a CSV text file (it contains NUL bytes; binary or UTF-16?)")
    line_ends = _line_ends(data)
    if line_ends in ("cr", "mixed"):  # DuckDB's reader takes one kind of line end per file
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    encoding, text = _decode(data, display)
    header_line = _first_record(text).rstrip("\r")
    delimiter = _detect_delimiter(header_line)
    try:
        raw_header = next(csv.reader(io.StringIO(header_line), delimiter=delimiter))
    except csv.Error as exc:
        raise FileRejected(display, f"line 1: the header cannot be read ({exc})") from exc
    header = [normalise_header(h) for h in raw_header]
    if any(not h for h in header):
        col = header.index("") + 1
        raise FileRejected(
            display, f"line 1, column {col}: empty column name in the header; {describe_header(header)}"
        )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        shown = describe_header(header)
        named = str(dupes) if shown.startswith("the header has") else f"({len(dupes)} of them); {shown}"
        raise FileRejected(display, f"line 1: duplicate column names {named}")
    tmp, readable = None, path
    if encoding not in ("utf-8", "utf-8-sig") or compressed or line_ends in ("cr", "mixed"):
        tmp = private_temp_folder()
        if encoding not in ("utf-8", "utf-8-sig"):
            data = text.encode("utf-8")
        readable = Path(tmp.name) / "readable.csv"
        readable.write_bytes(data)
    del text
    starts, newlines, single_line = _record_starts(data)
    sniffed = SniffedFile(
        path=path,
        display=display,
        content_hash=digest,
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        raw_header=raw_header,
        readable_path=readable,
        record_starts=starts,
        newlines=newlines,
        single_line_records=single_line,
        tmp=tmp,
    )
    if line_ends in LINE_END_NOTES:
        sniffed.notes.append(LINE_END_NOTES[line_ends])
    return sniffed


LINE_END_NOTES = {
    "cr": "lines end with CR alone (old Mac format): read as line breaks",
    "mixed": "mixed line ends (LF, CRLF or CR alone): each read as a line break",
}


def _line_ends(data: bytes) -> str:
    """`lf`, `crlf`, `cr` (older Excel's "CSV (Macintosh)") or `mixed` (rows pasted from another file)."""
    arr = np.frombuffer(data, dtype=np.uint8)
    crs = np.flatnonzero(arr == 13)
    if not crs.size:
        return "lf"
    lfs = int(np.count_nonzero(arr == 10))
    followed = crs[crs + 1 < len(arr)]
    crlf = int(np.count_nonzero(arr[followed + 1] == 10))
    if crlf == len(crs) == lfs:
        return "crlf"
    return "cr" if lfs == 0 else "mixed"


TEMP_PREFIX = "gradtrack-"


def private_temp_folder() -> tempfile.TemporaryDirectory:
    """An owner-only (0700) folder for a decoded copy of a landing file, named after this process
    so that `remove_stale_copies` can tell one left by a killed run."""
    return tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{os.getpid()}-")


def remove_stale_copies() -> list[Path]:
    """Remove the decoded copies a killed run left in the temp folder (they hold personal data)."""
    removed = []
    for folder in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*-*"):
        pid = folder.name[len(TEMP_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or not folder.is_dir() or folder.stat().st_uid != os.getuid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # that process still runs: its copy is in use
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


@contextmanager
def sniff(path: Path, display: str, prepared: Future[SniffedFile] | None = None) -> Iterator[SniffedFile]:
    """``prepare`` the file (or take the result of a ``prepare`` already started) for a ``with`` block.

    A transcoded copy is removed when the block ends.
    """
    sniffed = prepared.result() if prepared is not None else prepare(path, display)
    try:
        yield sniffed
    finally:
        if sniffed.tmp is not None:
            sniffed.tmp.cleanup()


def _record_starts(data: bytes) -> tuple[np.ndarray, np.ndarray, bool]:
    """Byte offsets where non-blank records start (header included), all newline offsets, and
    whether every line break ends a record (no newline inside quotes, no bare CR).

    A newline ends a record when an even number of quote characters precede it (an escaped quote
    ``""`` flips the parity twice, so it does not disturb the count). The count comes from a binary
    search over the quote offsets rather than a running XOR over every byte: files have far fewer
    quotes than bytes, and the XOR scan was the slow part on large files.
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(arr == 10)
    crs = np.flatnonzero(arr == 13)
    after_cr = crs + 1
    bare_cr = bool(np.any(after_cr >= len(data)) or np.any(arr[after_cr[after_cr < len(data)]] != 10))
    if newlines.size == 0:
        return np.array([0], dtype=np.int64), newlines, not bare_cr
    quotes = np.flatnonzero(arr == 34)
    breaks = newlines[(np.searchsorted(quotes, newlines) & 1) == 0] if quotes.size else newlines
    starts = np.concatenate(([0], breaks + 1)).astype(np.int64)
    starts = starts[starts < len(data)]
    # Blank records: the next byte is a newline, or "\r\n".
    nxt = arr[starts]
    blank = nxt == 10
    has2 = starts + 1 < len(data)
    blank |= (nxt == 13) & has2 & (arr[np.minimum(starts + 1, len(data) - 1)] == 10)
    blank |= (nxt == 13) & ~has2
    return starts[~blank], newlines, breaks.size == newlines.size and not bare_cr


def _nonblank_line_starts(data: bytes, newlines: np.ndarray) -> np.ndarray:
    """Byte offsets of the physical lines that are not blank (header included)."""
    arr = np.frombuffer(data, dtype=np.uint8)
    starts = np.concatenate(([0], newlines + 1)).astype(np.int64)
    starts = starts[starts < len(data)]
    nxt = arr[starts]
    after = arr[np.minimum(starts + 1, len(data) - 1)]
    blank = (nxt == 10) | ((nxt == 13) & ((starts + 1 >= len(data)) | (after == 10)))
    return starts[~blank]


def _past_blank_lines(positions: np.ndarray, path: Path) -> np.ndarray:
    """Each byte position moved past any line breaks it points at (read through a memory map: only
    the bytes at these positions are touched)."""
    if not len(positions):
        return positions
    data = np.memmap(path, dtype=np.uint8, mode="r")
    moved = positions.copy()
    while True:
        inside = moved < len(data) - 1
        on_break = np.zeros(len(moved), dtype=bool)
        on_break[inside] = np.isin(data[moved[inside]], (10, 13))
        if not on_break.any():
            return moved
        moved[on_break] += 1


def _starts_of(starts: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The start of the record (or line) holding each byte position."""
    if not len(starts):
        return positions
    return starts[np.clip(np.searchsorted(starts, positions, side="right") - 1, 0, len(starts) - 1)]


def _column_at(line: bytes, offset: int, sniffed: SniffedFile) -> str:
    """'column N (name)' of the byte ``offset`` in a record's first line."""
    n = line[:offset].count(sniffed.delimiter.encode()) + 1
    name = sniffed.raw_header[n - 1] if n <= len(sniffed.raw_header) else None
    return f"column {n} ({name})" if name else f"column {n}"


def _unclosed_quote(data: bytes, newlines: np.ndarray, sniffed: SniffedFile, line_starts: np.ndarray) -> str:
    """Where a quoted value opens and does not close: the first data line with an odd number of
    quote characters, at its first quote that starts a value."""
    arr = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(arr == 34)
    line_of = np.searchsorted(newlines, quotes, side="left")  # 0-based physical line of each quote
    odd = np.flatnonzero(np.bincount(line_of, minlength=len(newlines) + 1) & 1)
    odd = odd[odd > 0]  # the header was parsed already
    tail = f"{len(line_starts)} data lines, of which DuckDB could read only some as records"
    if not odd.size:
        return f"quotes do not pair up into values ({tail}); nothing of this file was loaded"
    start = 0 if odd[0] == 0 else int(newlines[odd[0] - 1]) + 1
    end = int(newlines[odd[0]]) if odd[0] < len(newlines) else len(data)
    line = data[start:end]
    delim = sniffed.delimiter.encode()
    opening = next(
        (i for i in range(len(line)) if line[i] == 34 and (i == 0 or line[i - 1 : i] == delim)),
        line.find(b'"'),
    )
    return (
        f"line {odd[0] + 1}, {_column_at(line, opening, sniffed)}: a quoted value opens here and "
        f"does not close on its line ({tail}); nothing of this file was loaded, an earlier version "
        "of it stays. Close or remove the quote and send the file again."
    )


def _refuse_runaway_quote(
    rejects: list[tuple],
    reject_pos: np.ndarray,
    rejected_starts: np.ndarray,
    record_starts: np.ndarray,
    newlines: np.ndarray,
    sniffed: SniffedFile,
) -> None:
    """A record DuckDB rejects for an unterminated quote may have swallowed the lines after it:
    quarantining it as one row would drop those rows without a word, so the file is refused."""
    for pos, col_idx, col_name, etype, msg, _record in rejects:
        if etype != "UNQUOTED VALUE" or "unterminated" not in msg:
            continue
        start = int(rejected_starts[np.searchsorted(reject_pos, pos)])
        after = np.searchsorted(record_starts, start, side="right")
        end = int(record_starts[after]) if after < len(record_starts) else None
        with sniffed.readable_path.open("rb") as fh:  # only this record's bytes, on this rare path
            fh.seek(start)
            spanned = (fh.read(end - start) if end is not None else fh.read()).rstrip(b"\r\n").count(b"\n")
        if spanned:
            first = int(np.searchsorted(newlines, start, side="left")) + 1
            raise FileRejected(
                sniffed.display,
                f"line {first}, column {col_idx} ({col_name}): a quoted value opens there and is not "
                f"closed properly before line {first + spanned}, so {spanned + 1} lines cannot be told "
                "apart as records; nothing of this file was loaded, an earlier version of it "
                "stays. Close or remove the quote and send the file again.",
            )


def records_relation(
    sniffed: SniffedFile,
    rejects_table: str,
    rejects_scan: str,
    *,
    numbered: bool = False,
    parallel: bool = True,
) -> str:
    """FROM expression parsing the file (all VARCHAR), with a ``_line`` column before the file's.

    ``numbered``: ``_line`` is the record number (a row number, which keeps the read on one
    thread). Otherwise ``_line`` is NULL and the records keep file order when materialised (their
    rowid); with ``parallel`` (only if the connection preserves insertion order), files whose
    records each fit on one line are parsed by all threads.
    """
    path = str(sniffed.readable_path).replace("'", "''")
    delim = sniffed.delimiter.replace("'", "''")
    columns = "{" + ", ".join(f"{quote_literal(n)}: 'VARCHAR'" for n in sniffed.header) + "}"
    number = "row_number() over ()" if numbered else "null::bigint"
    threads = "true" if parallel and sniffed.single_line_records and not numbered else "false"
    return f"""(select {number} as _line, *
        from read_csv('{path}', delim='{delim}', quote='"', escape='"', header=true,
                      auto_detect=false, columns={columns}, store_rejects=true,
                      rejects_table='{rejects_table}', rejects_scan='{rejects_scan}',
                      null_padding=false, parallel={threads}, max_line_size=10000000))"""


def read_records(
    con: duckdb.DuckDBPyConnection, sniffed: SniffedFile, table: str, select: str | None = None
) -> tuple[int, list[dict]]:
    """Parse the file into temp view ``table`` with the physical ``_line`` of each record; return rejects.

    ``select`` is a SELECT over ``records_relation(sniffed, f"{table}_rj", f"{table}_rs")`` (default:
    all its columns); its result is stored once, in file order, in ``<table>_rn``, so an adapter's
    trimming and renaming happen while parsing instead of in a second copy of the text. Record
    number ``_rn`` is rowid + 1 there; ``<table>_lines`` maps it to the physical line and the view
    joins them (it shows both).
    Returns (accepted row count, structural rejects as dicts with line, column, reason, record).
    """
    rejects_table, rejects_scan = f"{table}_rj", f"{table}_rs"
    for t in (rejects_table, rejects_scan):
        con.execute(f"drop table if exists {t}")
    if select is None:
        select = f"select * from {records_relation(sniffed, rejects_table, rejects_scan)}"
    con.execute(f"create or replace temp table {table}_rn as {select}")
    rejects = con.execute(
        f"""select line_byte_position, column_idx, column_name, error_type, error_message, csv_line
            from {rejects_table} order by line_byte_position, column_idx"""
    ).fetchall()
    if sniffed.record_starts is None or sniffed.newlines is None:
        sniffed.record_starts, sniffed.newlines, _ = _record_starts(sniffed.readable_path.read_bytes())
    starts, newlines = sniffed.record_starts, sniffed.newlines
    record_starts = starts[1:]  # drop the header record

    # One rejects row per problem; a record can have several.
    reject_pos = np.array(sorted({r[0] for r in rejects}), dtype=np.int64)
    # DuckDB's line_byte_position can point a byte into the record (take the record starting at or
    # before it) or at the blank line before it (skip that first).
    at = _past_blank_lines(reject_pos, sniffed.readable_path)
    idx = np.searchsorted(record_starts, at, side="right") - 1
    idx = np.clip(idx, 0, max(len(record_starts) - 1, 0))
    rejected_starts = record_starts[idx] if len(record_starts) else reject_pos
    accepted_n = scalar(con, f"select count(*) from {table}_rn")
    keep = np.ones(len(record_starts), dtype=bool)
    if len(record_starts):
        keep[idx] = False
    accepted_starts = record_starts[keep]
    if len(accepted_starts) != accepted_n:
        # Our quote parity disagrees with DuckDB's parser. Benign when every physical line is one
        # record (a stray quote inside an unquoted field, which DuckDB reads literally); otherwise
        # lines are unaccounted for, and loading what DuckDB kept would lose them silently.
        data = sniffed.readable_path.read_bytes()
        line_starts = _nonblank_line_starts(data, newlines)[1:]
        if accepted_n + len(reject_pos) != len(line_starts):
            raise FileRejected(sniffed.display, _unclosed_quote(data, newlines, sniffed, line_starts))
        rejected_starts = _starts_of(line_starts, at)
        accepted_starts = line_starts[~np.isin(line_starts, rejected_starts)]
        if len(accepted_starts) != accepted_n:
            raise FileRejected(sniffed.display, _unclosed_quote(data, newlines, sniffed, line_starts))
    else:
        _refuse_runaway_quote(rejects, reject_pos, rejected_starts, record_starts, newlines, sniffed)
    lines = np.searchsorted(newlines, accepted_starts, side="left") + 1
    reject_lines = dict(
        zip(
            reject_pos.tolist(),
            (np.searchsorted(newlines, rejected_starts, side="left") + 1).tolist(),
            strict=True,
        )
    )
    con.register(
        f"{table}_lines_arrow",
        pa.table({"_rn": pa.array(np.arange(1, accepted_n + 1)), "_line": pa.array(lines, type=pa.int64())}),
    )
    con.execute(f"create or replace temp table {table}_lines as select _rn, _line from {table}_lines_arrow")
    con.unregister(f"{table}_lines_arrow")
    con.execute(
        f"""create or replace temp view {table} as
            select l._line, l._rn, r.* exclude (_line)
            from {table}_rn r join {table}_lines l on l._rn = r.rowid + 1"""
    )
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


def read_text_lines(
    con: duckdb.DuckDBPyConnection, sniffed: SniffedFile, table: str, lines: str, wanted: str
) -> None:
    """CREATE temp table ``table``: the raw text records (``_line`` + the file's columns) of the lines
    in ``wanted`` (a SELECT of line numbers), parsing the file again.

    Only files with quarantined rows need their text back, so the text is not kept for the others.
    ``lines`` is the ``_rn``/``_line`` table ``read_records`` made; both parses keep file order, so
    the record numbers agree.
    """
    rejects_table, rejects_scan = f"{table}_rj", f"{table}_rs"
    for t in (rejects_table, rejects_scan):
        con.execute(f"drop table if exists {t}")
    con.execute(
        f"""create or replace temp table {table} as
            select l._line, p.* exclude (_line)
            from {records_relation(sniffed, rejects_table, rejects_scan, numbered=True)} p
            join {lines} l on l._rn = p._line
            where l._line in ({wanted})"""
    )
    for t in (rejects_table, rejects_scan):
        con.execute(f"drop table if exists {t}")
