"""The dbt project as Dagster sees it.

`preparer.prepare_if_dev()` parses it under `dagster dev`/`dg dev`; `make` and `gradtrack run` call
`preparer.prepare()` before the definitions are imported, so `manifest.json` always matches the
models on disk. Nothing here runs dbt at import time outside `dagster dev`.
"""

import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject, DbtProjectPreparer

DBT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"

# The dbt beside this interpreter, so nothing depends on an activated virtual environment.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


class VenvDbtPreparer(DbtProjectPreparer):
    """Parse with the venv's dbt (dagster-dbt's default preparer runs whichever `dbt` is on PATH).

    The project has no dbt packages to install, so preparing it is parsing it.
    """

    def prepare_if_dev(self, project: DbtProject) -> None:
        if self.using_dagster_dev():
            self.prepare(project)

    def prepare(self, project: DbtProject) -> None:
        DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE).cli(
            ["parse", "--quiet"], target_path=project.target_path
        ).wait()


dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
preparer = VenvDbtPreparer()
preparer.prepare_if_dev(dbt_project)
