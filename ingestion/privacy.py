"""Scan the warehouse for personal values of the register outside the restricted schema.

Used by the tests and by a blocking asset check: a keyed pseudonym design is only as good as the
proof that no raw identifier leaked past it. The scan is set-based: the distinct values of every
text column of every non-restricted table and view are joined against the set of register values.
"""

from __future__ import annotations

import duckdb

from ingestion.db import quote_ident, quote_literal, rows

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

    Set-based over distinct values, one query per table or view: the distinct values of its text
    columns whose length could match a personal value (64-character pseudonyms cannot) probe the
    personal values (a view is unpivoted, so that its query runs once); rows are counted
    afterwards, only in the columns found leaking.
    """
    con.execute(f"create or replace temp table _personal_values as {_PERSONAL_VALUES}")
    try:
        columns = rows(
            con,
            """select c.table_schema, c.table_name, c.column_name, t.table_type = 'VIEW'
               from information_schema.columns c join information_schema.tables t
                 using (table_catalog, table_schema, table_name)
               where c.data_type = 'VARCHAR' and c.table_catalog = current_database()
                 and c.table_schema not in (select unnest(?::varchar[]))
                 and c.table_schema not in ('information_schema', 'pg_catalog')
                 and c.table_name not like '\\_personal\\_values' escape '\\'
               order by all""",
            [list(allowed_schemas)],
        )
        shortest, longest = rows(con, "select min(length(v)), max(length(v)) from _personal_values")[0]
        if not columns or shortest is None:
            return []

        def fits(value: str) -> str:  # could equal a personal value once trimmed (length is cheap)
            return (
                f"case when length({value}) between {shortest} and {longest} then true "
                f"when length({value}) < {shortest} then false else length(trim({value})) <= {longest} end"
            )

        by_relation: dict[tuple[str, str, bool], list[str]] = {}
        for schema, table, column, is_view in columns:
            by_relation.setdefault((schema, table, is_view), []).append(column)
        leaking: list[tuple[str, str, str]] = []
        for (schema, table, is_view), names in by_relation.items():
            relation = f"{quote_ident(schema)}.{quote_ident(table)}"
            if is_view:
                # One unpivoting pass: the view's query runs once, not once per column.
                picked = ", ".join(quote_ident(c) for c in names)
                values = f"""select distinct name, value from (
                        unpivot (select {picked} from {relation})
                        on columns(*) into name name value value)
                    where {fits("value")}"""
            else:
                # A table: per column, whose distinct values are few for most (answer codes).
                values = " union all ".join(
                    f"select {quote_literal(c)} as name, value from (select distinct {quote_ident(c)} "
                    f"as value from {relation} where {fits(quote_ident(c))})"
                    for c in names
                )
            found_in = rows(
                con,
                f"""select distinct name from ({values}) as t
                    semi join _personal_values as p on lower(trim(t.value)) = p.v""",
            )
            leaking += sorted((schema, table, name) for (name,) in found_in)
        found = []
        for schema, table, column in leaking:
            n = rows(
                con,
                f"""select count(*) from {quote_ident(schema)}.{quote_ident(table)} as t
                    join _personal_values as p on lower(trim(t.{quote_ident(column)})) = p.v""",
            )[0][0]
            found.append((schema, table, column, n))
    finally:
        con.execute("drop table if exists _personal_values")
    return found
