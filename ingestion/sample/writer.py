"""CSV writing in the dialects real tools produce, through DuckDB's CSV writer.

DuckDB does the quoting (a field with the delimiter, a quote or a newline is quoted, quotes doubled) at
C++ speed; the only whole-file step in Python is the final encoding: a BOM for UTF-8 tools, Latin-1 and
CRLF line ends for Spanish Excel.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class CsvStyle:
    """How one kind of tool writes CSV."""

    delimiter: str
    encoding: str  # latin-1 | utf-8-sig | utf-8
    dates: str  # dmy (DD/MM/YYYY, DD/MM/YYYY HH:MM) | iso (YYYY-MM-DD, YYYY-MM-DD HH:MM:SS)
    decimal: str
    newline: str
    quote_all: bool = False  # LimeSurvey quotes every field, empty ones as ""


SPANISH_EXCEL = CsvStyle(";", "latin-1", "dmy", ",", "\r\n")
UTF8_BOM = CsvStyle(",", "utf-8-sig", "iso", ".", "\n")
LIMESURVEY = CsvStyle(",", "utf-8-sig", "iso", ".", "\n", quote_all=True)
PLAIN_UTF8 = CsvStyle(",", "utf-8", "iso", ".", "\n")  # the truth folder: for people and tests


class CsvWriter:
    """Writes string columns to CSV files; one DuckDB connection for the whole sample."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.con.execute("SET enable_progress_bar = false")

    def close(self) -> None:
        self.con.close()

    def write(self, path: Path, columns: dict[str, pa.Array], style: CsvStyle, append: bool = False) -> int:
        """Write the columns (all strings, null = empty) to `path`; returns the number of rows.

        With `append`, rows go after those of an existing file (no second header), so that large
        outputs such as the truth can be written one cohort at a time.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        names = list(columns)
        arrays = []
        for arr in columns.values():
            arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
            arr = arr.cast(pa.string())
            if style.quote_all:
                arr = pc.fill_null(arr, "")
            else:
                arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
            arrays.append(arr)
        table = pa.table(arrays, names=[f"c{i}" for i in range(len(arrays))])
        tmp = path.with_name(path.name + ".part")
        self.con.register("sample_rows", table)
        try:
            options = f"FORMAT csv, HEADER false, DELIMITER '{style.delimiter}', QUOTE '\"', ESCAPE '\"'"
            options += ", FORCE_QUOTE *" if style.quote_all else ""
            self.con.execute(f"COPY sample_rows TO '{_sql_path(tmp)}' ({options})")
        finally:
            self.con.unregister("sample_rows")
        body = tmp.read_bytes()
        tmp.unlink()
        appending = append and path.exists()
        header = "" if appending else style.delimiter.join(_quote(n, style) for n in names) + "\n"
        if style.encoding == "latin-1":
            text = header + body.decode("utf-8")
            if style.newline != "\n":
                text = text.replace("\n", style.newline)
            data = text.encode("latin-1", errors="replace")
        else:
            data = header.encode("utf-8") + body
            if style.newline != "\n":
                data = data.replace(b"\n", style.newline.encode())
            if style.encoding == "utf-8-sig" and not appending:
                data = BOM + data
        with path.open("ab" if appending else "wb") as f:
            f.write(data)
        return table.num_rows

    def write_text(self, path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")


def _quote(name: str, style: CsvStyle) -> str:
    if style.quote_all or any(ch in name for ch in (style.delimiter, '"', "\n")):
        return '"' + name.replace('"', '""') + '"'
    return name


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
