"""Environment switching in one place: every path, secret and threshold the definitions need.

Values come from environment variables through `dg.EnvVar`, resolved when a run starts or a
schedule/sensor ticks, never at import. `gradtrack run` and `make dev` set them;
`docs/operations.md` lists them.
"""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import yaml

from ingestion.waves import WaveCalendar

WAREHOUSE = dg.EnvVar("GRADTRACK_WAREHOUSE")  # the DuckDB file
LANDING = dg.EnvVar("GRADTRACK_LANDING")  # the landing folder of the data contract
REPORTS = dg.EnvVar("GRADTRACK_REPORTS")  # where the report site is written
ANALYST_DATABASE = dg.EnvVar("GRADTRACK_ANALYST_DATABASE")  # the analysts' copy (no restricted)
SUPPRESSION_THRESHOLD = dg.EnvVar("GRADTRACK_SUPPRESSION_THRESHOLD")  # optional; dbt's default else
PUBLICATION_THRESHOLD = dg.EnvVar("GRADTRACK_PUBLICATION_THRESHOLD")  # optional; 20 else
ROUNDING_BASE = dg.EnvVar("GRADTRACK_ROUNDING_BASE")  # optional; 5 else
WAVE_DATES = dg.EnvVar("GRADTRACK_WAVE_DATES")  # optional; ingestion.waves.DEFAULT_DATES else
MAX_SHRINK = dg.EnvVar("GRADTRACK_MAX_SHRINK")  # optional; ingestion.loaders.DEFAULT_MAX_SHRINK else
DUCKDB_MEMORY = dg.EnvVar("GRADTRACK_DUCKDB_MEMORY")  # optional; DEFAULT_DUCKDB_MEMORY else
DEFAULT_DUCKDB_MEMORY = "3GB"  # also dbt_project/profiles.yml's default

DBT_PROJECT_FILE = Path(__file__).resolve().parents[1] / "dbt_project" / "dbt_project.yml"

ENV_VARS = {
    "GRADTRACK_WAREHOUSE": "path of the DuckDB warehouse file",
    "GRADTRACK_LANDING": "the landing folder (register/, surveys/<wave>/, admin/, context/)",
    "GRADTRACK_REPORTS": "folder of the rendered report site (index.html, pages, exports)",
    "GRADTRACK_ANALYST_DATABASE": "the DuckDB file analysts open: marts, reference, audit; no restricted",
    "GRADTRACK_PSEUDONYM_KEY": "secret HMAC key for pseudonyms (or use the next one)",
    "GRADTRACK_PSEUDONYM_KEY_FILE": "file holding the secret HMAC key",
    "GRADTRACK_LINKAGE_DECISIONS": "CSV of reviewers' match/no_match decisions (docs/linkage.md)",
    "GRADTRACK_SUPPRESSION_THRESHOLD": "marts flag bases under it `suppressed` (default: dbt var, 5)",
    "GRADTRACK_PUBLICATION_THRESHOLD": "published reports: smallest base of a shown figure (default 20)",
    "GRADTRACK_ROUNDING_BASE": "published reports: counts rounded to a multiple of this (default 5)",
    "GRADTRACK_WAVE_DATES": "when each wave is due, e.g. pre_graduation=03-01,m6=01-15,m18=01-15",
    "GRADTRACK_MAX_SHRINK": "share of a re-sent file's earlier rows it may remove (default 0.2; 1 = any)",
    "GRADTRACK_DUCKDB_MEMORY": "DuckDB's memory limit for the run and dbt (default 3GB; it spills beyond)",
    "DAGSTER_HOME": "the Dagster instance (runs, schedules, sensor cursor); `gradtrack run` records there",
}


def suppression_threshold() -> int:
    """The warehouse's threshold: bases under it are flagged `suppressed` in the marts analysts
    read, and the checks use it (read at run time). The reports have their own, larger one."""
    value = _positive(SUPPRESSION_THRESHOLD, "GRADTRACK_SUPPRESSION_THRESHOLD")
    if value is not None:
        return value
    config = yaml.safe_load(DBT_PROJECT_FILE.read_text(encoding="utf-8"))
    return int(config.get("vars", {}).get("suppression_threshold", 5))


def _positive(var: dg.EnvVar, name: str) -> int | None:
    """A positive whole number from the environment, None when unset; anything else is an error."""
    value = var.get_value()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return number


def publication_threshold() -> int:
    """The published reports' threshold (docs/disclosure.md): no figure on a smaller base is shown.

    Separate from the warehouse's `suppressed` flag (`suppression_threshold`), which analysts
    see; the published layer applies its own threshold, and hides what the warehouse flags too.
    """
    from reports.disclosure import DEFAULT_THRESHOLD

    return _positive(PUBLICATION_THRESHOLD, "GRADTRACK_PUBLICATION_THRESHOLD") or DEFAULT_THRESHOLD


def rounding_base() -> int:
    """Published counts are rounded to the nearest multiple of this (docs/disclosure.md)."""
    from reports.disclosure import DEFAULT_ROUNDING_BASE

    return _positive(ROUNDING_BASE, "GRADTRACK_ROUNDING_BASE") or DEFAULT_ROUNDING_BASE


def wave_calendar() -> WaveCalendar:
    """When each wave's survey is due (read at every schedule tick, so a change needs no redeploy)."""
    return WaveCalendar.parse(WAVE_DATES.get_value() or "")


def max_shrink() -> float:
    """Share of its earlier version's rows a re-sent landing file may remove before it is refused."""
    from ingestion.loaders import DEFAULT_MAX_SHRINK

    value = MAX_SHRINK.get_value()
    try:
        share = float(value) if value else DEFAULT_MAX_SHRINK
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1:
        raise ValueError(f"GRADTRACK_MAX_SHRINK must be a share between 0 and 1, got {value!r}")
    return share


def duckdb_memory_limit() -> str:
    """DuckDB's memory limit for the run's connections and dbt: past it DuckDB spills to disk.

    DuckDB's own default, 80 % of the machine, lets one national run take most of a shared server.
    """
    value = (DUCKDB_MEMORY.get_value() or DEFAULT_DUCKDB_MEMORY).strip()
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", value, flags=re.IGNORECASE):
        raise ValueError(f"GRADTRACK_DUCKDB_MEMORY must be a size such as 3GB or 800MB, got {value!r}")
    return value
