"""What has arrived in the landing folder since last time: each new or changed file with its source,
wave and cohorts, so that the landing sensor can start the run of exactly that cohort and wave.

A file's cohorts come from its rows, read the way the loader reads them (same sniffing, adapters
and typing; no write to any warehouse): register rows carry their cohort, survey rows are
attributed by fieldwork date minus the wave's distance from graduation. Admin and context files
span cohorts.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.csvfile import FileRejected, prepare
from ingestion.loaders import LANDED_SUFFIXES, file_cohorts, place

__all__ = ["LANDED_SUFFIXES", "Arrival", "new_arrivals", "place"]
# A file younger than this may still be being written (a copy in progress): wait for the next tick.
SETTLE_SECONDS = 30.0


@dataclass(frozen=True)
class Arrival:
    path: str  # relative to the landing folder, POSIX
    source: str  # register | survey | admin | context
    wave: str | None
    signature: str  # size and modification time: a re-sent file under the same name arrives again
    cohorts: tuple[int, ...] = ()  # register and survey files; empty for spanning sources
    problem: str | None = None  # why the cohorts could not be read (the run will report it properly)
    # A survey file with rows but no fieldwork date (an anonymized LimeSurvey survey): its cohorts come
    # from the register through linkage, so it runs over every cohort like a spanning file.
    undated: bool = False


def signature(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def new_arrivals(
    landing: Path,
    seen: Mapping[str, str],
    *,
    now: float | None = None,
    settle_seconds: float = SETTLE_SECONDS,
) -> list[Arrival]:
    """Files of the landing contract that are new or changed since `seen` (path -> signature) and
    have not been modified for `settle_seconds`, in path order."""
    now = time.time() if now is None else now
    found: list[Arrival] = []
    for path in sorted(p for p in landing.rglob("*") if p.is_file()):
        relative = path.relative_to(landing).as_posix()
        where = place(relative)
        if where is None:
            continue
        sig = signature(path)
        if seen.get(relative) == sig or now - path.stat().st_mtime < settle_seconds:
            continue
        source, wave = where
        undated = False
        try:
            cohorts = file_cohorts(path, relative, source, wave)
            problem = None
            undated = source == "survey" and not cohorts and file_has_rows(path, relative)
        except (FileRejected, duckdb.Error, ValueError) as exc:
            cohorts, problem = (), str(exc).splitlines()[0]
        found.append(Arrival(relative, source, wave, sig, cohorts, problem, undated))
    return found


def file_has_rows(path: Path, display: str) -> bool:
    """Whether a landing file has any record after its header (blank lines do not count)."""
    prepared = prepare(path, display)
    try:
        return prepared.record_starts is not None and len(prepared.record_starts) > 1
    finally:
        if prepared.tmp is not None:
            prepared.tmp.cleanup()
