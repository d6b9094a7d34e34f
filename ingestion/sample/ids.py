"""National identifiers with valid check characters, drawn vectorised and unique.

The shapes are the real ones (Spanish DNI/NIE, Estonian isikukood, Italian codice fiscale, Dutch BSN) so
that normalisation and any check-digit validation in the pipeline meet what registers really hold.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.sample.text import from_codes, int_str, join, slugs_table

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def char_matrix_to_strings(codes: np.ndarray) -> pa.Array:
    """Rows of byte values (n x k, ASCII) to a string array, without a Python loop per row."""
    codes = np.ascontiguousarray(codes, dtype=np.uint8)
    n, k = codes.shape
    offsets = np.arange(n + 1, dtype=np.int32) * k
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(codes.tobytes()))


def random_strings(rng: np.random.Generator, n: int, length: int, alphabet: str = ALNUM) -> pa.Array:
    """Random fixed-length strings (survey tokens, response ids)."""
    table = np.frombuffer(alphabet.encode("ascii"), dtype=np.uint8)
    return char_matrix_to_strings(table[rng.integers(0, len(table), size=(n, length))])


def unique_random_strings(rng: np.random.Generator, n: int, length: int) -> pa.Array:
    """Random strings redrawn until unique: tokens and ids must not repeat within a file."""
    values = np.asarray(random_strings(rng, n, length).to_numpy(zero_copy_only=False), dtype=object)
    while True:
        _, first = np.unique(values, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            return pa.array(values, pa.string())
        values[dup] = random_strings(rng, int(dup.sum()), length).to_numpy(zero_copy_only=False)


def duplicated(values: np.ndarray) -> np.ndarray:
    """True for every repetition of a value after its first occurrence."""
    _, first = np.unique(values, return_index=True)
    dup = np.ones(len(values), dtype=bool)
    dup[first] = False
    return dup


def _redraw_duplicates(
    rng: np.random.Generator, values: np.ndarray, draw: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Replace repeated values until all are unique; loops over rounds, not rows."""
    while (dup := duplicated(values)).any():
        values[dup] = draw(dup)
    return values


def dni_numbers(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """Distinct 8-digit DNI numbers in [low, high): graduates and other workers use disjoint ranges."""
    return rng.choice(high - low, size=n, replace=False).astype(np.int64) + low


def spanish_ids(
    rng: np.random.Generator, numbers: np.ndarray, nie_share: float, nie_letters: str = "YZ"
) -> pa.Array:
    """DNI `12345678Z`, or for foreign residents NIE `Y1234567X`; check letter = number mod 23.

    The NIE letter stands for a leading digit (X=0, Y=1, Z=2) in the check computation.
    """
    n = len(numbers)
    nie = rng.random(n) < nie_share
    prefix = np.array(["XYZ".index(c) for c in nie_letters])[rng.integers(0, len(nie_letters), n)]
    nie_number = prefix * 10_000_000 + numbers % 10_000_000
    checked = np.where(nie, nie_number, numbers)
    letter = from_codes(np.asarray(checked % 23), tuple(DNI_LETTERS))
    body = pc.if_else(
        pa.array(nie),
        join(from_codes(prefix, ("X", "Y", "Z")), int_str(numbers % 10_000_000, 7)),
        int_str(numbers, 8),
    )
    return join(body, letter)


def isikukood(rng: np.random.Generator, birth: np.ndarray, female: np.ndarray) -> pa.Array:
    """Estonian personal code: G YYMMDD SSS C (G = century and sex), check digit by the 2-pass mod 11."""
    n = len(birth)
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    month = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
    century = np.where(year >= 2000, 5, 3) + female.astype(np.int64)
    serial = rng.integers(0, 1000, size=n)

    def code(serial: np.ndarray) -> np.ndarray:
        head = century * 10**9 + (year % 100) * 10**7 + month * 10**5 + day * 10**3 + serial
        d = head[:, None] // 10 ** np.arange(9, -1, -1) % 10  # n x 10 digits
        c = (d @ np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 1])) % 11
        c2 = (d @ np.array([3, 4, 5, 6, 7, 8, 9, 1, 2, 3])) % 11
        return head * 10 + np.where(c < 10, c, np.where(c2 < 10, c2, 0))

    values = code(serial)
    while True:
        _, first = np.unique(values, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        serial[dup] = rng.integers(0, 1000, size=int(dup.sum()))
        values = code(serial)
    return int_str(values, 11)


def bsn(rng: np.random.Generator, n: int) -> pa.Array:
    """Dutch BSN: 9 digits passing the 11-test (sum of d1*9 .. d8*2 - d9 divisible by 11)."""
    weights = np.array([9, 8, 7, 6, 5, 4, 3, 2])

    def draw(count: int) -> np.ndarray:
        out = np.empty(0, dtype=np.int64)
        while len(out) < count:
            head = rng.integers(10_000_000, 70_000_000, size=count * 2)
            d = head[:, None] // 10 ** np.arange(7, -1, -1) % 10
            last = (d @ weights) % 11
            ok = last < 10
            out = np.concatenate([out, head[ok] * 10 + last[ok]])
        return out[:count]

    values = _redraw_duplicates(rng, draw(n), lambda m: draw(int(m.sum())))
    return int_str(values, 9)


# Codice fiscale tables.
_CF_MONTHS = "ABCDEHLMPRST"
_CF_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]
_CF_OMOCODIA = "LMNPQRSTUV"  # digit d -> letter, used to tell apart two people with the same code
_CF_PLACES = ("C933", "B639", "D416", "F205", "E507", "L682", "F704", "C933", "C933", "Z129", "Z100")
_CF_PLACE_WEIGHTS = (0.34, 0.12, 0.08, 0.12, 0.06, 0.05, 0.05, 0.0, 0.0, 0.1, 0.08)


def _cf_part(name: str, surname: bool) -> str:
    """Three letters from a name: consonants first (first names with 4+ consonants skip the 2nd)."""
    letters = [c for c in slugs_table((name,))[0].upper() if c.isalpha()]
    cons = [c for c in letters if c not in "AEIOU"]
    vows = [c for c in letters if c in "AEIOU"]
    if not surname and len(cons) >= 4:
        cons = [cons[0], cons[2], cons[3]]
    return "".join(cons + vows + ["X", "X", "X"])[:3]


def codice_fiscale(
    rng: np.random.Generator,
    first_names: tuple[str, ...],
    surnames: tuple[str, ...],
    first_idx: np.ndarray,
    surname_idx: np.ndarray,
    birth: np.ndarray,
    female: np.ndarray,
) -> pa.Array:
    """Italian tax code from names, birth date, sex and birthplace; collisions resolved by omocodia."""
    n = len(birth)
    first_part = np.frombuffer("".join(_cf_part(s, False) for s in first_names).encode(), np.uint8)
    last_part = np.frombuffer("".join(_cf_part(s, True) for s in surnames).encode(), np.uint8)
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    month = birth.astype("datetime64[M]").astype(np.int64) % 12
    day = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1 + 40 * female.astype(np.int64)
    p = np.asarray(_CF_PLACE_WEIGHTS) / sum(_CF_PLACE_WEIGHTS)
    place = np.frombuffer("".join(_CF_PLACES).encode(), np.uint8).reshape(-1, 4)[
        rng.choice(len(_CF_PLACES), size=n, p=p)
    ]
    chars = np.empty((n, 16), dtype=np.uint8)
    chars[:, 0:3] = last_part.reshape(-1, 3)[surname_idx]
    chars[:, 3:6] = first_part.reshape(-1, 3)[first_idx]
    chars[:, 6] = ord("0") + (year % 100) // 10
    chars[:, 7] = ord("0") + year % 10
    chars[:, 8] = np.frombuffer(_CF_MONTHS.encode(), np.uint8)[month]
    chars[:, 9] = ord("0") + day // 10
    chars[:, 10] = ord("0") + day % 10
    chars[:, 11:15] = place
    odd_table = np.zeros(128, dtype=np.int64)
    even_table = np.zeros(128, dtype=np.int64)
    for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        odd_table[ord(c)] = _CF_ODD[i]
        even_table[ord(c)] = i
    for i in range(10):
        odd_table[ord("0") + i] = _CF_ODD[i]
        even_table[ord("0") + i] = i
    omocodia = np.frombuffer(_CF_OMOCODIA.encode(), np.uint8)
    digit_positions = (14, 13, 12, 10, 9, 7, 6)

    def finish(chars: np.ndarray) -> np.ndarray:
        body = chars[:, :15]
        total = odd_table[body[:, 0::2]].sum(axis=1) + even_table[body[:, 1::2]].sum(axis=1)
        chars[:, 15] = ord("A") + total % 26
        return chars

    chars = finish(chars)
    for pos in digit_positions:
        values = chars.view("S16").ravel()
        _, first = np.unique(values, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        chars[dup, pos] = omocodia[chars[dup, pos] - ord("0")]
        chars = finish(chars)
    return char_matrix_to_strings(chars)


def cf_check_char(code: str) -> str:
    """Check character of a codice fiscale's first 15 characters (used by the tests)."""
    total = 0
    for i, c in enumerate(code[:15]):
        index = int(c) if c.isdigit() else ord(c) - ord("A")
        total += _CF_ODD[index] if i % 2 == 0 else index
    return chr(ord("A") + total % 26)
