"""Build on a copy, publish by rename: the last good warehouse survives any failed or killed run.

Every way a run starts (`gradtrack run`, the Dagster UI, a schedule, the sensor, a backfill) goes
through one `Build`: it holds `<warehouse>.lock` for the whole run (DuckDB has one writer), works on
`<warehouse>.building.duckdb`, and only when the run succeeded renames the working files over the
live ones. A failed run deletes its working files; a killed one leaves them behind, and the next
run removes them before it starts. Readers of the live files are never disturbed: a rename does not
change the file they have open.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

WAREHOUSE_MODE = 0o600  # the warehouse holds `restricted`: its owner only
ANALYST_MODE = 0o640  # the analysts' copy has no personal data: also the owner's group


def working_path(live: Path) -> Path:
    """`gradtrack.duckdb` -> `gradtrack.building.duckdb` (beside it, so the rename is atomic)."""
    return live.with_name(live.stem + ".building" + live.suffix)


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


@contextmanager
def exclusive(warehouse: Path, on_wait: Callable[[str], None] = print) -> Iterator[IO[str]]:
    """Hold `<warehouse>.lock`: a second run on the same warehouse waits for the first instead of
    failing. The lock is the kernel's (flock), so a killed run releases it with its process."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with lock_path(warehouse).open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait(f"Another run is building {warehouse}; waiting for it to finish...")
            fcntl.flock(handle, fcntl.LOCK_EX)
            on_wait("The other run has finished; starting.")
        yield handle


def _remove(path: Path) -> None:
    for leftover in (path, Path(f"{path}.wal")):
        leftover.unlink(missing_ok=True)


@dataclass
class Build:
    """The working files of one run (create with `Build.start` while holding the lock)."""

    warehouse: Path
    staged: dict[Path, tuple[Path, int]] = field(default_factory=dict)  # live -> (working, mode)
    copied: bool = False

    @classmethod
    def start(cls, warehouse: Path) -> Build:
        """Remove the working copy a killed run left behind (staged files: when staged again)."""
        _remove(working_path(warehouse))
        return cls(warehouse)

    @property
    def work(self) -> Path:
        return working_path(self.warehouse)

    def warehouse_copy(self) -> Path:
        """The working copy of the warehouse, copied from the live one on first use."""
        if not self.copied:
            _remove(self.work)
            if self.warehouse.exists():
                shutil.copy2(self.warehouse, self.work)
            self.staged[self.warehouse] = (self.work, WAREHOUSE_MODE)
            self.copied = True
        return self.work

    def read_path(self) -> Path:
        """What this run's readers see: its working copy once it has one, else the live file."""
        return self.work if self.copied else self.warehouse

    def stage(self, live: Path, mode: int) -> Path:
        """Where a file published with the warehouse (the analysts' copy) is written meanwhile."""
        _remove(working_path(live))
        self.staged[live] = (working_path(live), mode)
        return working_path(live)

    def publish(self) -> list[Path]:
        """Rename every working file that was written over its live file (the warehouse last, so a
        crash in between leaves an old warehouse, which the next run rebuilds from); live paths."""
        done = []
        for live, (work, mode) in sorted(self.staged.items(), key=lambda s: s[0] == self.warehouse):
            if work.exists():
                os.chmod(work, mode)
                os.replace(work, live)
                done.append(live)
        return done

    def discard(self) -> None:
        for work, _mode in self.staged.values():
            _remove(work)


def _link_tree(source: Path, target: Path) -> None:
    """Copy folder `source` to `target`: files at the top copied (they are rewritten in place, such
    as index.html), files in subfolders hard-linked (a rebuilt subfolder is deleted and written
    anew, never edited in place, so the live files behind the links stay as they were)."""
    target.mkdir(parents=True)
    for entry in source.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, target / entry.name, symlinks=True, copy_function=os.link)
        else:
            shutil.copy2(entry, target / entry.name, follow_symlinks=False)


@contextmanager
def rebuilt_folder(live: Path) -> Iterator[Path]:
    """A working copy of folder `live` to write into, renamed over it when the block succeeds.

    An exception, or a kill, leaves `live` as it was. The swap is two renames (a folder cannot be
    renamed over a non-empty one); a kill between them leaves `<live>.previous`, which the next
    rebuild puts back first.
    """
    if live.exists() and not live.is_dir():
        raise NotADirectoryError(f"{live} is a file, not a folder: give another folder")
    staging = live.with_name(live.name + ".building")
    previous = live.with_name(live.name + ".previous")
    if previous.is_dir() and not live.exists():
        previous.rename(live)
    for leftover in (previous, staging):
        if leftover.exists():
            shutil.rmtree(leftover)
    if live.is_dir():
        _link_tree(live, staging)
    else:
        staging.mkdir(parents=True)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if live.exists():
        live.rename(previous)
    staging.rename(live)
    shutil.rmtree(previous, ignore_errors=True)
