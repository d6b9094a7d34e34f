"""The dbt project as Dagster sees it.

`prepare_if_dev()` parses it under `dagster dev`/`dg dev`; `make` and `gradtrack run` parse it before
the definitions are imported, so `manifest.json` always matches the models on disk.
"""

import sys
from pathlib import Path

from dagster_dbt import DagsterDbtProjectPreparer, DbtCliResource, DbtProject
from dagster_shared.record import replace as record_replace

DBT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"

# The dbt beside this interpreter, so nothing depends on an activated virtual environment.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


class VenvDbtPreparer(DagsterDbtProjectPreparer):
    """Parse with the venv's dbt (the stock preparer looks for `dbt` on PATH)."""

    def _prepare_manifest(self, project: DbtProject) -> None:
        DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE).cli(
            ["parse", "--quiet"], target_path=project.target_path
        ).wait()


# DbtProject is an immutable Dagster record without a `preparer` argument: copy it with ours.
dbt_project = record_replace(
    DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR), preparer=VenvDbtPreparer()
)
dbt_project.prepare_if_dev()
