"""The analyst database: a DuckDB file with the marts, the reference seeds and the audit tables, and
nothing of `restricted` (identifiers for linkage) or the raw layer.

The warehouse file itself holds `restricted`, so it is the pipeline's, not the analysts'. Analysts open
this copy (`duckdb -readonly gradtrack.analyst.duckdb`); it is rewritten whole by every build, into a
working file that replaces the old one together with the warehouse, only when the run succeeds.
"""

import os
from pathlib import Path

import dagster as dg
import duckdb as duckdb_lib

from ingestion.building import ANALYST_MODE
from ingestion.contract import PERSONAL_COLUMNS
from ingestion.db import quote_ident, quote_literal, rows
from orchestration.defs.partitions import WAREHOUSE_POOL
from orchestration.defs.warehouse.resources import WarehouseDuckDB

ANALYST_SCHEMAS = ("marts", "reference", "audit")


def write_analyst_database(con: duckdb_lib.DuckDBPyConnection, out: Path) -> dict[str, int]:
    """Copy the analyst schemas' tables from the warehouse `con` into `out`; rows per table."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    copied: dict[str, int] = {}
    con.execute(f"attach {quote_literal(str(partial))} as analyst_copy")
    try:
        for schema in ANALYST_SCHEMAS:
            con.execute(f"create schema analyst_copy.{quote_ident(schema)}")
            tables = rows(
                con,
                """select table_name from duckdb_tables()
                   where database_name = current_database() and schema_name = ? order by 1""",
                [schema],
            )
            for (table,) in tables:
                name = f"{quote_ident(schema)}.{quote_ident(table)}"
                columns = rows(con, f"select name from pragma_table_info('{schema}.{table}')")
                personal = PERSONAL_COLUMNS & {c for (c,) in columns}
                if personal:  # defence in depth: the leak checks guard values, this guards columns
                    raise ValueError(f"{schema}.{table} has personal columns {sorted(personal)}")
                con.execute(f"create table analyst_copy.{name} as from {name}")
                copied[f"{schema}.{table}"] = rows(con, f"select count(*) from analyst_copy.{name}")[0][0]
    finally:
        con.execute("detach analyst_copy")
    os.replace(partial, out)
    return copied


class AnalystDatabase(dg.ConfigurableResource):
    """Where the analyst copy goes (`gradtrack run`: `<warehouse>.analyst.duckdb` beside it)."""

    path: str


def analyst_database_asset(marts: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=["analyst", "database"],
        deps=marts,
        group_name="analyst",
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
        description="The DuckDB file analysts open: marts, reference and audit, no restricted, no raw.",
    )
    def analyst_database(
        context: dg.AssetExecutionContext, duckdb: WarehouseDuckDB, analyst: AnalystDatabase
    ) -> dg.MaterializeResult:
        # Written beside the live copy and renamed over it with the warehouse, when the run succeeds.
        live = Path(analyst.path)
        out = duckdb.stage(live, ANALYST_MODE)
        with duckdb.get_connection() as con:
            copied = write_analyst_database(con, out)
        context.log.info(f"{len(copied)} tables copied to {out} (published as {live} if the run succeeds)")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(live)),
                "tables": dg.MetadataValue.int(len(copied)),
                "rows": dg.MetadataValue.json(copied),
                "size_mb": dg.MetadataValue.float(round(out.stat().st_size / 1e6, 1)),
            }
        )

    return analyst_database
