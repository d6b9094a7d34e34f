"""Resources of the ingestion domain: where the landing folder is and the pseudonym key."""

import os
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from ingestion.pseudonym import KEY_ENV, KEY_FILE_ENV, PseudonymKey


class LandingFolder(dg.ConfigurableResource):
    """The landing folder of the input contract.

    ``accept_shrink``: for one run (`gradtrack run --accept-shrink`, or this resource's config in
    the launchpad), re-sent files may remove any share of their earlier rows.
    """

    path: str
    accept_shrink: bool = False

    @property
    def root(self) -> Path:
        root = Path(self.path)
        if not root.is_dir():
            raise dg.Failure(f"Landing folder {root} does not exist (GRADTRACK_LANDING).")
        return root


class PseudonymKeyResource(dg.ConfigurableResource):
    """The HMAC key. Read when a run starts, from config or else the environment; never logged.

    Either of two variables may hold it, which `dg.EnvVar` cannot express, so the lookup happens
    here at run start (not at import) and fails with a message that says how to provide a key.
    """

    key: str | None = None
    key_file: str | None = None
    _resolved: PseudonymKey | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._resolved = PseudonymKey.resolve(
            self.key or os.environ.get(KEY_ENV), self.key_file or os.environ.get(KEY_FILE_ENV)
        )

    def get(self) -> PseudonymKey:
        if self._resolved is None:
            self._resolved = PseudonymKey.resolve(
                self.key or os.environ.get(KEY_ENV), self.key_file or os.environ.get(KEY_FILE_ENV)
            )
        return self._resolved
