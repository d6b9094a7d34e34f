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
    """(schema, table, column, rows) of every text column holding a register personal value."""
    con.execute(f"create or replace temp table _personal_values as {_PERSONAL_VALUES}")
    columns = rows(
        con,
        """select table_schema, table_name, column_name from information_schema.columns
           where data_type = 'VARCHAR' and table_catalog = current_database()
             and table_schema not in (select unnest(?::varchar[]))
             and table_schema not in ('information_schema', 'pg_catalog')
             and table_name not like '\\_personal\\_values' escape '\\'""",
        [list(allowed_schemas)],
    )
    leaks = []
    for schema, table, column in columns:
        ref = f"{quote_ident(schema)}.{quote_ident(table)}"
        n = rows(
            con,
            f"""select count(*) from {ref} t join _personal_values p
                on lower(trim(t.{quote_ident(column)})) = p.v""",
        )[0][0]
        if n:
            leaks.append((schema, table, column, n))
    con.execute("drop table _personal_values")
    return leaks
