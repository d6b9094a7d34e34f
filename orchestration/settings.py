"""Environment switching in one place: every path, secret and threshold the definitions need.

Values come from environment variables through `dg.EnvVar`, resolved when a run starts, never at
import. `gradtrack run` and `make dev` set them; `docs/operations.md` lists them.
"""

from __future__ import annotations

import dagster as dg

WAREHOUSE = dg.EnvVar("GRADTRACK_WAREHOUSE")  # the DuckDB file
LANDING = dg.EnvVar("GRADTRACK_LANDING")  # the landing folder of the data contract
REPORTS = dg.EnvVar("GRADTRACK_REPORTS")  # where the report site is written

ENV_VARS = {
    "GRADTRACK_WAREHOUSE": "path of the DuckDB warehouse file",
    "GRADTRACK_LANDING": "the landing folder (register/, surveys/<wave>/, admin/, context/)",
    "GRADTRACK_REPORTS": "folder of the rendered report site (index.html, pages, exports)",
    "GRADTRACK_PSEUDONYM_KEY": "secret HMAC key for pseudonyms (or use the next one)",
    "GRADTRACK_PSEUDONYM_KEY_FILE": "file holding the secret HMAC key",
    "GRADTRACK_LINKAGE_DECISIONS": "CSV of reviewers' match/no_match decisions (docs/linkage.md)",
}
