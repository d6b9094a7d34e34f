"""Small DuckDB helpers shared by the loaders.

DuckDB 2.0 refuses new work on a connection while a result is only partly fetched (`fetchone()`
leaves it open), so every read here fetches its result completely.
"""

from __future__ import annotations

from typing import Any

import duckdb


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> Any:
    rows = con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()
    return rows[0][0] if rows else None


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[tuple]:
    return con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def id_norm(col: str) -> str:
    """SQL normalising a national id as stored (no spaces, dots, dashes or slashes; upper case):
    the loaders, the pseudonyms and erasure must agree on it."""
    return f"nullif(upper(regexp_replace({col}, '[\\s.\\-/]', '', 'g')), '')"


def email_norm(col: str) -> str:
    return f"nullif(lower(trim({col})), '')"
