"""The dbt project as Dagster sees it. `prepare_if_dev()` parses it under `dagster dev`;
`make`/CI run `dbt parse` so `manifest.json` exists before the definitions are imported."""

import sys
from pathlib import Path

from dagster_dbt import DbtProject

DBT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
dbt_project.prepare_if_dev()

# The dbt beside this interpreter, so `.venv/bin/gradtrack` works without an activated venv.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
