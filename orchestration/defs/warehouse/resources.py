"""The warehouse connection every asset and check uses: dagster-duckdb's resource, memory-capped."""

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster_duckdb import DuckDBResource

from ingestion.db import quote_literal
from orchestration import settings


class WarehouseDuckDB(DuckDBResource):
    """`DuckDBResource` whose connections honour GRADTRACK_DUCKDB_MEMORY (default 3GB).

    Without a limit DuckDB may use 80 % of the machine per process; the national-scale target is
    a run under 4 GB. The limit is read when a connection opens (run time, never at import), the
    same one dbt's profile applies.
    """

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        limit = settings.duckdb_memory_limit()
        with super().get_connection() as con:
            con.execute(f"set memory_limit = {quote_literal(limit)}")
            yield con
