"""Keyed pseudonyms: HMAC-SHA256 computed set-based inside DuckDB.

The key comes from ``GRADTRACK_PSEUDONYM_KEY`` or a key file; it is never written to the warehouse.
HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)) is expressed with DuckDB's ``sha256`` over BLOBs,
so a million identifiers are hashed in one vectorised query instead of a Python loop. The padded key
halves only live in a TEMP macro of the loading connection.

A warehouse remembers the *fingerprint* of its key (HMAC of a fixed text: it tells two keys apart and
reveals nothing about either) in ``restricted.key_fingerprint``. A load with another key would give
every graduate new pseudonyms and silently cut the links to what is already loaded, so it is refused
before anything is written.
"""

from __future__ import annotations

import hashlib
import hmac
import stat
from dataclasses import dataclass
from pathlib import Path

import duckdb

KEY_ENV = "GRADTRACK_PSEUDONYM_KEY"
KEY_FILE_ENV = "GRADTRACK_PSEUDONYM_KEY_FILE"
MIN_KEY_BYTES = 16
_BLOCK = 64  # SHA-256 block size
FINGERPRINT_TEXT = "gradtrack key fingerprint v1"
FINGERPRINT_TABLE = "restricted.key_fingerprint"

HOW_TO_PROVIDE = (
    f"Set {KEY_ENV} to a secret of at least {MIN_KEY_BYTES} characters, or {KEY_FILE_ENV} to a file "
    "holding it (keep it outside the repository and the warehouse folder; `make demo` creates "
    "~/.config/gradtrack/demo.key for the demo). The same key must be used for every load of a "
    "warehouse, or pseudonyms will not match across years."
)


class MissingKeyError(RuntimeError):
    """Raised when no pseudonymisation key is configured: nothing may be loaded without one."""


class KeyMismatchError(RuntimeError):
    """The warehouse was built with another key: loading with this one would break every link."""


@dataclass(frozen=True, repr=False)
class PseudonymKey:
    """A secret HMAC key. ``repr`` never shows it, so it cannot leak into logs or Dagster metadata."""

    secret: bytes

    def __repr__(self) -> str:
        return "PseudonymKey(<secret>)"

    @classmethod
    def resolve(cls, key: str | None = None, key_file: str | None = None) -> PseudonymKey:
        """Take the key itself or read the key file; refuse to go on without one."""
        if key:
            secret = key.encode("utf-8")
        elif key_file:
            path = Path(key_file).expanduser()
            if not path.is_file():
                raise MissingKeyError(
                    f"{KEY_FILE_ENV} points to {path}, which does not exist. " + HOW_TO_PROVIDE
                )
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:  # as ssh refuses a private key others can read
                raise MissingKeyError(
                    f"The key file {path} can be read or written by other users (mode {mode:03o}). "
                    f"Make it yours alone: chmod 600 {path}"
                )
            secret = path.read_bytes().strip()
        else:
            raise MissingKeyError("No pseudonymisation key. " + HOW_TO_PROVIDE)
        if len(secret) < MIN_KEY_BYTES:
            raise MissingKeyError(
                f"The pseudonymisation key is {len(secret)} bytes; at least {MIN_KEY_BYTES} needed. "
                + HOW_TO_PROVIDE
            )
        return cls(secret)

    def python_hmac(self, message: str) -> str:
        """Reference implementation, used by tests to check the SQL one."""
        return hmac.new(self.secret, message.encode("utf-8"), hashlib.sha256).hexdigest()

    def fingerprint(self) -> str:
        """A public name of the key: HMAC(key, fixed text), 64 bits in hex."""
        return hmac.new(self.secret, FINGERPRINT_TEXT.encode(), hashlib.sha256).hexdigest()[:16]

    def check(self, con: duckdb.DuckDBPyConnection, *, record: bool = True) -> None:
        """Refuse a warehouse whose recorded fingerprint is another key's; with `record`, remember
        this key's in a warehouse that has none yet (a new one, or one older than fingerprints)."""
        exists = con.execute(
            """select count(*) from duckdb_tables()
               where database_name = current_database() and schema_name = 'restricted'
                 and table_name = 'key_fingerprint'"""
        ).fetchall()[0][0]
        recorded = (
            {r[0] for r in con.execute(f"select fingerprint from {FINGERPRINT_TABLE}").fetchall()}
            if exists
            else set()
        )
        mine = self.fingerprint()
        if recorded - {mine}:
            raise KeyMismatchError(
                f"This warehouse was built with another pseudonymisation key (fingerprint "
                f"{sorted(recorded - {mine})[0]}; the key given has {mine}). Loading with it would give "
                "every graduate new pseudonyms and cut the links to what is already loaded, so nothing "
                "was done. Use the warehouse's key; to change keys, build a new warehouse from the "
                "landing folder with the new key."
            )
        if record and not recorded:
            con.execute("create schema if not exists restricted")
            con.execute(
                f"create table if not exists {FINGERPRINT_TABLE} "
                "(fingerprint varchar not null, recorded_at timestamp not null)"
            )
            con.execute(f"insert into {FINGERPRINT_TABLE} values (?, current_localtimestamp())", [mine])

    def check_file(self, warehouse: Path) -> None:
        """`check` on a warehouse file opened read-only (nothing recorded); no file: a new warehouse."""
        if not warehouse.exists():
            return
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            self.check(con, record=False)
        finally:
            con.close()

    def _pads(self) -> tuple[str, str]:
        k = self.secret
        if len(k) > _BLOCK:
            k = hashlib.sha256(k).digest()
        k = k.ljust(_BLOCK, b"\0")
        return bytes(b ^ 0x36 for b in k).hex(), bytes(b ^ 0x5C for b in k).hex()

    def install(self, con: duckdb.DuckDBPyConnection) -> None:
        """Define TEMP macro ``pseudonym(domain, value)`` on this connection.

        NULL or blank values give NULL: a missing identifier must not become a shared pseudonym.
        """
        ipad, opad = self._pads()
        con.execute(
            f"""
            create or replace temp macro pseudonym(domain, value) as
            case when value is null or trim(value) = '' then null
                 else sha256(unhex('{opad}')
                      || unhex(sha256(unhex('{ipad}') || encode(domain || '|' || value))))
            end
            """
        )
