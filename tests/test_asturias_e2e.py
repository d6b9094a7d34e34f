"""End to end on the Asturias 2019 pilot: landing files -> `gradtrack run` -> marts.indicators.

The fixture (tests/fixtures/asturias2019) writes the pilot's landing folder the way Spanish tools write
it; `expected.yaml` lists the rows of marts.indicators that reproduce the published figures. Here the
real pipeline (CLI -> Dagster -> ingestion -> dbt build) runs on it, once per identifier mode, and every
expected row must be in marts.indicators with exactly its numerator and denominator (and its value for
medians and counts). In the "noisy" mode 30 % of the responses carry no student_id, only names, birth
date and e-mail with typos: the same numbers are expected, which only a good enough linkage gives.
"""

from __future__ import annotations

import math
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.conftest import ROOT, gradtrack_env
from tests.fixtures.asturias2019 import build
from tests.report_pages import printed_figures

GRADTRACK = str(Path(sys.executable).with_name("gradtrack"))
EXPECTED = yaml.safe_load(
    (ROOT / "tests" / "fixtures" / "asturias2019" / "expected.yaml").read_text(encoding="utf-8")
)
ROWS: list[dict] = EXPECTED["rows"]
# (identifier mode, admin layout): the noisy responses come with the admin extract in the contract's own
# columns (the SEPE key in contract_type under source = es_tgss), the full ones with the TGSS's columns
MODES = (("full", "tgss"), ("noisy", "contract_type"))


def _row_id(row: dict) -> str:
    parts = [row["wave"] or "any", row["indicator"], row["source"], row["breakdown"], row["breakdown_value"]]
    return "/".join(str(p) for p in parts)


@pytest.fixture(scope="module", params=MODES, ids="-".join)
def warehouse(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The warehouse `gradtrack run` builds from the fixture in one identifier mode and admin layout."""
    identifiers, layout = request.param
    mode = f"{identifiers}/{layout}"
    tmp = tmp_path_factory.mktemp(f"asturias_e2e_{identifiers}")
    landing, warehouse = tmp / "landing", tmp / "wh" / "gradtrack.duckdb"
    build.write_landing(landing, identifiers=identifiers, admin_layout=layout)
    env = gradtrack_env(tmp)
    env["DAGSTER_HOME"] = str(tmp / "dagster_home")
    (tmp / "dagster_home").mkdir()
    proc = subprocess.run(
        [GRADTRACK, "run", "--landing", str(landing), "--warehouse", str(warehouse)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    con = duckdb.connect(str(warehouse), read_only=True)
    # every spell of the extract is loaded, whichever columns name its contract
    assert con.execute(
        "select rows_read, rows_loaded, rows_quarantined from audit.load_log where file like 'admin/%'"
    ).fetchall() == [(106, 106, 0)], mode
    yield mode, con
    con.close()


def _matches(found: tuple, row: dict) -> bool:
    _, numerator, denominator, value = found
    if numerator != row["numerator"] or denominator != row["denominator"]:
        return False
    expected_value = row.get("value")
    if expected_value is None:
        return (
            row["numerator"] is None
            or row["denominator"] in (None, 0)
            or math.isclose(value, row["numerator"] / row["denominator"], rel_tol=1e-12)
        )
    return value is not None and math.isclose(value, expected_value, rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize("row", ROWS, ids=[_row_id(r) for r in ROWS])
def test_expected_indicator_row(warehouse, row: dict) -> None:
    mode, con = warehouse
    sql = """
        select wave, numerator, denominator, value
        from marts.indicators
        where cohort = ? and indicator = ? and source = ? and breakdown = ? and breakdown_value = ?
    """
    params: list = [row["cohort"], row["indicator"], row["source"], row["breakdown"], row["breakdown_value"]]
    if row["wave"] is not None:  # null: a register-based row, any wave matches
        sql += " and wave = ?"
        params.append(row["wave"])
    found = con.execute(sql, params).fetchall()
    assert found, f"[{mode}] no row in marts.indicators for {_row_id(row)}"
    assert any(_matches(f, row) for f in found), (
        f"[{mode}] {_row_id(row)}: expected numerator={row['numerator']} "
        f"denominator={row['denominator']} value={row.get('value')}, found {found}"
    )


def test_published_rows_are_not_suppressed_and_have_intervals(warehouse) -> None:
    """Every expected proportion has a base of at least 5 here: a value and a Wilson interval."""
    mode, con = warehouse
    bad = con.execute(
        """
        select wave, indicator, breakdown, breakdown_value
        from marts.indicators
        where cohort = 2019 and source = 'survey' and breakdown = 'total'
          and denominator >= 5 and numerator is not null and indicator <> 'graduates'
          and (suppressed or ci_low is null or ci_high is null or not (ci_low <= value and value <= ci_high))
        """
    ).fetchall()
    assert bad == [], f"[{mode}] {bad}"


def test_no_m18_rows_without_m18_data(warehouse) -> None:
    """No m18 survey and an admin extract taken before the m18 reference date: no m18 row."""
    mode, con = warehouse
    assert con.execute("select count(*) from marts.indicators where wave = 'm18'").fetchall() == [(0,)], mode


def test_pages_show_the_figures_the_seeds_publish(warehouse) -> None:
    """The 2019 pages `gradtrack run` wrote print the pilot's published figures (the student summary's
    shares, Tables 6.1 and 6.2), each where its provenance (data-gt) says, as the seed prints it."""
    mode, con = warehouse
    path = con.execute("select path from duckdb_databases() where database_name = current_database()")
    site = Path(path.fetchall()[0][0]).parent / "reports" / "2019"
    printed: dict[tuple, set[str]] = {}
    for page in site.rglob("*.html"):
        for key, words in printed_figures(page):
            printed.setdefault(key, set()).add(words[0] if words else "")
    assert printed, f"[{mode}] no figures in {site}"
    checked = []
    for row in ROWS:
        seed = row.get("published")
        if not seed or not str(seed).endswith("%") or (row["denominator"] or 0) < 20:
            continue  # counts and medians, and bases under the publication threshold
        if "misprint" in str(row.get("note", "")):
            continue
        rest = (row["indicator"], row["source"], row["breakdown"], row["breakdown_value"])
        texts = {
            t for k, seen in printed.items() if k[2:] == rest and row["wave"] in (None, k[1]) for t in seen
        }
        number = Decimal(str(seed).replace("%", "").replace(",", ".").strip())
        step = Decimal(1).scaleb(number.as_tuple().exponent)  # as many decimals as the seed prints
        got = {
            Decimal(t.replace("%", "").replace(",", ".").replace("\xa0", ""))
            for t in texts
            if t[:1].isdigit()
        }
        # rounded half up as the seed rounds; a truncated seed figure (74.87 -> 74,8) is one step under
        fits = [g for g in got if g.quantize(step, ROUND_HALF_UP) == number]
        if row.get("rule") == "truncate":
            fits += [g for g in got if number <= g <= number + step]
        assert fits, f"[{mode}] {_row_id(row)}: the seed prints {seed}, the pages {sorted(texts)}"
        key = rest
        checked.append(key)
    assert len(checked) >= 20, checked
