"""Scan the warehouse for personal values of the register outside the restricted schema.

Used by the tests and by a blocking asset check: a keyed pseudonym design is only as good as the
proof that no raw identifier leaked past it. The scan is set-based: every text column of every
non-restricted table is joined against the set of register values.
"""

from __future__ import annotations

import duckdb

from ingestion.db import quote_ident, rows

# Register values that must never appear outside `restricted`: national id, e-mail, phone, full name.
_PERSONAL_VALUES = """
    select distinct v from (
        select lower(national_id) as v from restricted.register_identifiers
        union all select email_norm from restricted.register_identifiers
        union all select phone_norm from restricted.register_identifiers
        union all select lower(first_name || ' ' || last_name) from restricted.register_identifiers
        union all select lower(last_name || ', ' || first_name) from restricted.register_identifiers
        union all select first_name_norm || ' ' || last_name_norm from restricted.register_identifiers
    ) where v is not null and length(v) >= 5
"""


def personal_value_leaks(
    con: duckdb.DuckDBPyConnection, allowed_schemas: tuple[str, ...] = ("restricted",)
) -> list[tuple[str, str, str, int]]:
    """(schema, table, column, rows) of every text column holding a register personal value.

    Set-based over distinct values: each column's distinct values whose length could match a
    personal value (64-character pseudonyms cannot) are normalised and probe the personal values
    in one query; rows are counted afterwards, only in the columns found leaking.
    """
    con.execute(f"create or replace temp table _personal_values as {_PERSONAL_VALUES}")
    try:
        columns = rows(
            con,
            """select table_schema, table_name, column_name from information_schema.columns
               where data_type = 'VARCHAR' and table_catalog = current_database()
                 and table_schema not in (select unnest(?::varchar[]))
                 and table_schema not in ('information_schema', 'pg_catalog')
                 and table_name not like '\\_personal\\_values' escape '\\'
               order by all""",
            [list(allowed_schemas)],
        )
        shortest, longest = rows(con, "select min(length(v)), max(length(v)) from _personal_values")[0]
        if not columns or shortest is None:
            return []

        def fits(column: str) -> str:  # could equal a personal value once trimmed (length is cheap)
            c = quote_ident(column)
            return (
                f"case when length({c}) between {shortest} and {longest} then true "
                f"when length({c}) < {shortest} then false else length(trim({c})) <= {longest} end"
            )

        scans = " union all ".join(
            f"select {i} as col, v from (select distinct {quote_ident(column)} as v "
            f"from {quote_ident(schema)}.{quote_ident(table)} where {fits(column)})"
            for i, (schema, table, column) in enumerate(columns)
        )
        leaking = rows(
            con,
            f"select distinct col from ({scans}) as t join _personal_values as p "
            "on lower(trim(t.v)) = p.v order by col",
        )
        found = []
        for (i,) in leaking:
            schema, table, column = columns[i]
            n = rows(
                con,
                f"""select count(*) from {quote_ident(schema)}.{quote_ident(table)} as t
                    join _personal_values as p on lower(trim(t.{quote_ident(column)})) = p.v""",
            )[0][0]
            found.append((schema, table, column, n))
    finally:
        con.execute("drop table if exists _personal_values")
    return found
