"""The reports as a reader sees them: headless Chromium opens the HTML files (file://), finds no
console error and charts drawn with a size, and saves screenshots and an A4 PDF for people to look
at in ``artifacts/screenshots/`` (git-ignored)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from reports.engine import open_published, render_page
from reports.i18n import translations
from reports.site import PAGES_DIR
from tests.conftest import PipelineBuild

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HEADLINE = {
    "school": r"Graduates\s+[\d,]+\s+Answered 6 months after\s+\d+\.\d%",
    "student_summary_es": r"\d+,\d\s?%",
    "policy": r"CIFP La Laboral",
}
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install chromium"),
]


@pytest.fixture(scope="module")
def rendered(pipeline_warehouse: PipelineBuild, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One page of each kind, from the warehouse the real pipeline built."""
    warehouse = pipeline_warehouse.warehouse
    out = tmp_path_factory.mktemp("site")
    with open_published(warehouse) as con:
        school = render_page(PAGES_DIR / "school.md", con, {"cohort": 2019, "school_code": "ES-LABORAL"}, out)
        summary = render_page(
            PAGES_DIR / "student_summary.md",
            con,
            {"cohort": 2019, "school_code": "ES-LABORAL"},
            out / "es",
            "es",
            translations("es"),
        )
        policy = render_page(PAGES_DIR / "policy.md", con, {"cohort": 2019}, out)
    return {"school": school.html_path, "student_summary_es": summary.html_path, "policy": policy.html_path}


def test_pages_open_without_errors_and_draw_charts(rendered: dict[str, Path]) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            for name, path in rendered.items():
                page.goto(path.as_uri())
                page.wait_for_load_state("load")
                sizes = page.eval_on_selector_all(
                    "figure.chart svg",
                    "els => els.map(e => { const b = e.getBoundingClientRect(); "
                    "return [b.width, b.height]; })",
                )
                assert len(sizes) >= 3, name
                body = page.inner_text("body")  # what a reader sees, headline figures first
                assert re.search(HEADLINE[name], body), (name, body[:500])
                assert all(w > 100 and h > 50 for w, h in sizes), (name, sizes)
                page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
                if name in ("school", "student_summary_es"):
                    page.emulate_media(media="print")
                    page.pdf(path=str(SCREENSHOTS / f"{name}.pdf"), format="A4", print_background=True)
                    page.emulate_media(media="screen")
            assert errors == []
            assert all(u.startswith("file://") for u in requests)  # nothing loaded from elsewhere
        finally:
            browser.close()
    for name in rendered:
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000
    assert (SCREENSHOTS / "school.pdf").stat().st_size > 10_000
    shutil.copy(rendered["school"], SCREENSHOTS / "school.html")  # the page beside its pictures
