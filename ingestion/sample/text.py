"""Column-at-a-time text helpers: codes to strings, number and date formatting, accents, joins.

Everything works on whole numpy/Arrow arrays so that a million rows cost a handful of kernel calls, never a
Python loop per row. (Arrow's `binary_join_element_wise` with `null_handling="skip"` drops all-null rows
in pyarrow 26, so joins here never use it.)
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

StrLike = pa.Array | str

_TWO_DIGITS = pa.array([f"{i:02d}" for i in range(100)], pa.string())


def from_codes(idx: np.ndarray, values: Sequence[str]) -> pa.Array:
    """`values[idx]` as a string array; a negative index gives null (not asked / not answered)."""
    idx = np.asarray(idx)
    table = pa.array(list(values), pa.string())
    missing = idx < 0
    safe = pa.array(np.where(missing, 0, idx).astype(np.int32), mask=missing)
    return pc.take(table, safe)


def int_str(values: np.ndarray, width: int = 0) -> pa.Array:
    """Integers as decimal strings, zero-padded to `width`."""
    out = pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())
    return pc.utf8_lpad(out, width=width, padding="0") if width else out


def join(*parts: StrLike, sep: str = "") -> pa.Array:
    """Element-wise concatenation; a null part makes the result null."""
    args = [p if isinstance(p, pa.Array | pa.ChunkedArray) else pa.scalar(p, pa.string()) for p in parts]
    return pc.binary_join_element_wise(*args, sep)


def null_if(values: pa.Array, mask: np.ndarray) -> pa.Array:
    """Blank the rows where mask is true."""
    return pc.if_else(pa.array(mask), pa.nulls(len(values), pa.string()), values)


def choose(mask: np.ndarray, if_true: StrLike, if_false: StrLike) -> pa.Array:
    """Element-wise `if_true if mask else if_false`."""
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), if_true, if_false)


def strip_accents(values: pa.Array) -> pa.Array:
    """`Peláez Muñiz` -> `Pelaez Muniz`, as people type on a phone without accents."""
    return pc.replace_substring_regex(
        pc.utf8_normalize(values, form="NFD"), pattern=r"\p{Mn}", replacement=""
    )


def slug(text: str) -> str:
    """ASCII lower-case letters and digits of a name, for e-mail addresses and codes."""
    text = text.replace("ı", "i").replace("ß", "ss")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in ascii_text.lower() if c.isalnum())


def slugs_table(names: Sequence[str]) -> tuple[str, ...]:
    """`slug` of each name of a (short) list."""
    return tuple(slug(n) for n in names)


def _date_parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    return year, month, day


def format_dates(values: np.ndarray, style: str) -> pa.Array:
    """datetime64[D] to `YYYY-MM-DD` (style iso) or `DD/MM/YYYY` (style dmy); NaT gives null."""
    nat = np.isnat(values)
    days = np.where(nat, np.datetime64("2000-01-01"), values).astype("datetime64[D]")
    year, month, day = _date_parts(days)
    y, m, d = int_str(year, 4), pc.take(_TWO_DIGITS, month), pc.take(_TWO_DIGITS, day)
    out = join(y, m, d, sep="-") if style == "iso" else join(d, m, y, sep="/")
    return null_if(out, nat) if nat.any() else out


def format_timestamps(values: np.ndarray, style: str) -> pa.Array:
    """datetime64[s] to `YYYY-MM-DD HH:MM:SS` (iso) or `DD/MM/YYYY HH:MM` (dmy, as Spanish Excel)."""
    nat = np.isnat(values)
    ts = np.where(nat, np.datetime64("2000-01-01T00:00:00"), values).astype("datetime64[s]")
    days = ts.astype("datetime64[D]")
    seconds = (ts - days).astype(np.int64)
    hh = pc.take(_TWO_DIGITS, seconds // 3600)
    mm = pc.take(_TWO_DIGITS, seconds // 60 % 60)
    if style == "iso":
        ss = pc.take(_TWO_DIGITS, seconds % 60)
        out = join(format_dates(days, "iso"), join(hh, mm, ss, sep=":"), sep=" ")
    else:
        out = join(format_dates(days, "dmy"), join(hh, mm, sep=":"), sep=" ")
    return null_if(out, nat) if nat.any() else out


def format_decimal(values: np.ndarray, decimals: int, sep: str) -> pa.Array:
    """Non-negative floats with a fixed number of decimals and `.` or `,`; NaN gives null."""
    nan = np.isnan(values)
    scaled = np.round(np.where(nan, 0.0, values) * 10**decimals).astype(np.int64)
    whole = int_str(scaled // 10**decimals)
    frac = int_str(scaled % 10**decimals, decimals)
    out = join(whole, frac, sep=sep)
    return null_if(out, nan) if nan.any() else out


def multi_join(ticked: np.ndarray, codes: Sequence[str], sep: str = ";") -> pa.Array:
    """Rows of a boolean matrix (n x k) to `code;code`; a row with nothing ticked gives null."""
    k = ticked.shape[1]
    bits = ticked.astype(np.int64) @ (1 << np.arange(k))
    table = [sep.join(c for j, c in enumerate(codes) if m >> j & 1) or None for m in range(1 << k)]
    return pc.take(pa.array(table, pa.string()), pa.array(bits))
