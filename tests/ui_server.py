"""Run the Dagster webserver for gradtrack's definitions in tests: free loopback port, tmp state.

`running_webserver(workdir)` parses the dbt project if `manifest.json` is missing, starts
`dagster-webserver -w workspace.yaml` in its own process group with DAGSTER_HOME, the warehouse and
the landing folder under `workdir`, waits until the code location has loaded, and on exit stops the
whole process group (SIGTERM, then SIGKILL), leaving no processes behind.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MANIFEST = ROOT / "dbt_project" / "target" / "manifest.json"
LOCATION = "gradtrack"
PSEUDONYM_KEY = "ui-test-key-0123456789-not-secret"

# Restore the default SIGINT handler, then exec: a process started from a backgrounded shell
# inherits an ignored SIGINT, and Dagster then ignores SIGTERM too (see stack notes).
_EXEC_WITH_DEFAULT_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)

_WORKSPACE_QUERY = """
{ workspaceOrError { __typename
    ... on Workspace { locationEntries { name loadStatus
        locationOrLoadError { __typename ... on PythonError { message } } } }
    ... on PythonError { message } } }
"""


@dataclass(frozen=True)
class DagsterUi:
    """A running webserver: its base URL, process and log file."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def graphql(self, query: str, variables: dict[str, Any] | None = None, timeout: float = 30) -> Any:
        """POST a GraphQL query to /graphql; return `data`, raising on GraphQL errors."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.load(response)
        if payload.get("errors"):
            raise AssertionError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the webserver's output, for failure messages."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """A loopback port that was free a moment ago (bound to port 0, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_manifest() -> None:
    """Parse the dbt project when `manifest.json` is missing (`make test` parses it beforehand)."""
    if MANIFEST.exists():
        return
    env = {k: v for k, v in os.environ.items() if k not in ("DBT_TARGET_PATH", "DBT_LOG_PATH")}
    project = ["--project-dir", "dbt_project", "--profiles-dir", "dbt_project"]
    subprocess.run(
        [str(BIN / "dbt"), "parse", *project, "--quiet"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=180,
    )


def webserver_env(workdir: Path) -> dict[str, str]:
    """The environment of the webserver: everything it writes or reads lives under `workdir`."""
    home = workdir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    (workdir / "landing").mkdir(exist_ok=True)
    env = dict(os.environ)
    env.pop("GRADTRACK_PSEUDONYM_KEY_FILE", None)
    env.update(
        DAGSTER_HOME=str(home.resolve()),
        GRADTRACK_WAREHOUSE=str((workdir / "gradtrack.duckdb").resolve()),
        GRADTRACK_LANDING=str((workdir / "landing").resolve()),
        GRADTRACK_PSEUDONYM_KEY=PSEUDONYM_KEY,
        DBT_TARGET_PATH=str((workdir / "dbt_target").resolve()),
        DBT_LOG_PATH=str((workdir / "dbt_logs").resolve()),
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


def _location_status(ui: DagsterUi) -> str | None:
    """None while the code location loads; "ok" once loaded; raises if it failed to load."""
    data = ui.graphql(_WORKSPACE_QUERY, timeout=10)["workspaceOrError"]
    if data["__typename"] != "Workspace":
        raise RuntimeError(f"workspace failed: {data.get('message')}")
    entries = {e["name"]: e for e in data["locationEntries"]}
    entry = entries.get(LOCATION)
    if entry is None or entry["loadStatus"] != "LOADED":
        return None
    loaded = entry["locationOrLoadError"] or {}
    if loaded.get("__typename") == "PythonError":
        raise RuntimeError(f"code location {LOCATION} failed to load:\n{loaded.get('message')}")
    return "ok"


def wait_until_ready(ui: DagsterUi, timeout: float) -> None:
    """Poll /server_info, then the workspace, until the code location is loaded (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ui.process.poll() is not None:
            raise RuntimeError(f"dagster-webserver exited with {ui.process.returncode}:\n{ui.log_tail()}")
        try:
            with urllib.request.urlopen(f"{ui.url}/server_info", timeout=2) as response:
                if response.status == 200 and _location_status(ui):
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"dagster-webserver not ready after {timeout:.0f} s:\n{ui.log_tail()}")


def _group_alive(pgid: int) -> bool:
    """Whether a process of group `pgid` still runs (zombies awaiting their reaper do not count)."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: ask the kernel about the whole group
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state != "Z":
            return True
    return False


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM the process group (webserver and its code server), SIGKILL what is left after `timeout`."""
    pgid = process.pid  # start_new_session: the leader's pid is the group id
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
        if not _group_alive(pgid):
            break
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if process.poll() is not None and not _group_alive(pgid):
                break
            time.sleep(0.1)
    process.wait(timeout=5)
    if _group_alive(pgid):
        raise RuntimeError(f"processes of group {pgid} survived SIGKILL")


@contextmanager
def running_webserver(workdir: Path, timeout: float = 90) -> Iterator[DagsterUi]:
    """Start dagster-webserver for workspace.yaml on a free 127.0.0.1 port; stop it on exit."""
    ensure_manifest()
    workdir.mkdir(parents=True, exist_ok=True)
    env = webserver_env(workdir)
    port = free_port()
    log = workdir / "webserver.log"
    command = [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", _EXEC_WITH_DEFAULT_SIGINT, *command],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ui = DagsterUi(url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        wait_until_ready(ui, timeout)
        yield ui
    finally:
        stop_process_group(process)
