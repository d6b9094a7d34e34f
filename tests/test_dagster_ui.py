"""The Dagster UI serves gradtrack's definitions: GraphQL lists them, the asset graph renders.

One webserver per module (tests/ui_server.py) on a free loopback port with a throwaway
DAGSTER_HOME; the browser test uses Debian's Chromium, never a downloaded one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ui_server import ROOT, DagsterUi, running_webserver

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = ROOT / "artifacts" / "screenshots" / "dagster_asset_graph.png"
# Tall enough for the whole graph with every group expanded at the UI's zoom-to-fit.
VIEWPORT = {"width": 2400, "height": 2600}
ASSET_NAME = "[class*=AssetNode_assetName]"  # the label of an asset node in the graph
EDGE = "svg path[marker-end]"  # an edge between nodes (a path ending in an arrow marker)

DEFINITIONS_QUERY = """
{ repositoriesOrError { __typename
    ... on RepositoryConnection { nodes { name location { name }
        schedules { name } sensors { name }
        assetNodes { assetKey { path }
          assetChecksOrError { __typename ... on AssetChecks { checks { name } } } } } }
    ... on PythonError { message } } }
"""


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterUi]:
    """The webserver for workspace.yaml, started once for this module and stopped after it."""
    with running_webserver(tmp_path_factory.mktemp("dagster_ui")) as ui:
        yield ui


@pytest.fixture(scope="module")
def in_process() -> dict[str, set[str]]:
    """What the Definitions object defines, loaded in this process (same manifest as the server)."""
    from orchestration.definitions import defs

    repo = defs.get_repository_def()
    check_keys = defs.resolve_asset_graph().asset_check_keys
    return {
        "assets": {key.to_user_string() for key in defs.resolve_all_asset_keys()},
        "checks": {f"{key.asset_key.to_user_string()}:{key.name}" for key in check_keys},
        "schedules": {s.name for s in repo.schedule_defs},
        "sensors": {s.name for s in repo.sensor_defs},
    }


def served_definitions(ui: DagsterUi) -> dict[str, set[str]]:
    """Asset keys, asset checks, schedules and sensors as the webserver's GraphQL API lists them."""
    result = ui.graphql(DEFINITIONS_QUERY)["repositoriesOrError"]
    assert result["__typename"] == "RepositoryConnection", result.get("message")
    repos = result["nodes"]
    assert [r["location"]["name"] for r in repos] == ["gradtrack"], repos
    repo: dict[str, Any] = repos[0]
    checks = set()
    for node in repo["assetNodes"]:
        found = node["assetChecksOrError"]
        assert found["__typename"] == "AssetChecks", found
        key = "/".join(node["assetKey"]["path"])
        checks |= {f"{key}:{check['name']}" for check in found["checks"]}
    return {
        "assets": {"/".join(n["assetKey"]["path"]) for n in repo["assetNodes"]},
        "checks": checks,
        "schedules": {s["name"] for s in repo["schedules"]},
        "sensors": {s["name"] for s in repo["sensors"]},
    }


def test_graphql_lists_definitions(dagster_ui: DagsterUi, in_process: dict[str, set[str]]) -> None:
    """The UI serves exactly the assets, checks, schedules and sensors the definitions define."""
    served = served_definitions(dagster_ui)
    for kind in ("assets", "checks", "schedules", "sensors"):
        assert served[kind] == in_process[kind], (
            f"{kind}: only served {sorted(served[kind] - in_process[kind])}, "
            f"only in-process {sorted(in_process[kind] - served[kind])}"
        )
    assert {"raw/register", "raw/survey_m6", "restricted/register_identifiers"} <= served["assets"]
    assert any(key.startswith("staging/") for key in served["assets"]), "no dbt models served"
    assert served["checks"], "dbt tests should appear as asset checks"
    # The marts are still being built; once the indicators model is in the manifest, it is served.
    if "marts/indicators" in in_process["assets"]:
        assert "marts/indicators" in served["assets"]


@pytest.mark.browser
def test_asset_graph_screenshot(dagster_ui: DagsterUi) -> None:
    """The global asset lineage renders asset nodes (all groups expanded) without page errors."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "needs Debian's Chromium: run `make chromium` (make test does)"
    dagster_ui.graphql("mutation { setNuxSeen }")  # no "Join the community" dialog over the graph
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT)
            context.add_init_script("localStorage.setItem('dagster-nav-collapsed', 'true')")
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{dagster_ui.url}/asset-groups", wait_until="domcontentloaded")
            # With several groups the graph opens collapsed to group boxes: ⌥E expands them all
            # (the UI records it as ?expanded=...); a reload lays out and zooms to fit the result.
            page.locator("svg foreignObject").first.wait_for()
            if page.locator(ASSET_NAME).count() == 0:  # only group boxes so far
                for _ in range(3):
                    page.keyboard.press("Alt+KeyE")
                    try:
                        page.wait_for_url(re.compile(r"[?&]expanded="), timeout=5_000)
                        break
                    except PlaywrightTimeout:  # pressed before the shortcut handler was ready
                        time.sleep(0.5)
                assert "expanded=" in page.url, f"groups did not expand: {page.url}"
                page.reload(wait_until="domcontentloaded")
            register = page.locator(ASSET_NAME).filter(has_text=re.compile(r"^register$"))
            register.first.wait_for()
            page.locator(EDGE).first.wait_for(state="attached")  # edges are laid out by a worker
            page.wait_for_timeout(1_000)  # let the last nodes and edges paint
            names = set(page.locator(ASSET_NAME).all_inner_texts())
            assert {"register", "survey_m6"} <= names, sorted(names)
            assert page.locator(EDGE).count() >= 10, "edges missing from the graph"
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    assert not errors, f"page errors: {errors}"
    assert SCREENSHOT.stat().st_size > 10_000
