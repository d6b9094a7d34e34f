"""The dbt unit tests (hand-computed cases beside each model) run here, not in production runs.

`gradtrack run` builds with `--exclude resource_type:unit_test`; so that no definition goes untested,
this test builds every model empty (`dbt build --empty`) on a scratch warehouse holding the raw layer's
tables, then runs every unit test and checks dbt ran all of them and none failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ingestion.warehouse import ensure_schema

ROOT = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).parent / "dbt")

pytestmark = pytest.mark.slow


def _dbt(args: list[str], env: dict[str, str], target: Path) -> subprocess.CompletedProcess[str]:
    cmd = [DBT, *args, "--project-dir", "dbt_project", "--profiles-dir", "dbt_project"]
    cmd += ["--target-path", str(target), "--log-path", str(target / "logs")]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)


def test_every_dbt_unit_test_passes(tmp_path: Path) -> None:
    warehouse = tmp_path / "unit.duckdb"
    con = duckdb.connect(str(warehouse))
    ensure_schema(con)
    con.close()
    env = dict(os.environ, GRADTRACK_WAREHOUSE=str(warehouse), GRADTRACK_DBT_TARGET="prod")
    target = tmp_path / "target"
    empty = _dbt(["build", "--empty", "--exclude", "resource_type:unit_test"], env, target)
    assert empty.returncode == 0, empty.stdout[-3000:]
    proc = _dbt(["test", "--select", "test_type:unit"], env, target)
    assert proc.returncode == 0, proc.stdout[-5000:]
    results = json.loads((target / "run_results.json").read_text())["results"]
    unit = [r for r in results if r["unique_id"].startswith("unit_test.")]
    manifest = json.loads((target / "manifest.json").read_text())
    declared = [k for k in manifest.get("unit_tests", {})]
    assert len(declared) >= 28, "the project's unit tests were not found"
    assert sorted(r["unique_id"] for r in unit) == sorted(declared)
    assert all(r["status"] == "pass" for r in unit), [r["unique_id"] for r in unit if r["status"] != "pass"]
