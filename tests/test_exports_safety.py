"""Exports from hostile data: a school code made of `../` never becomes a path outside the report
folder, and text starting with `=` is never a live formula in the XLSX or the CSV (OWASP)."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from reports.exports import export_school, inside, safe_cell, safe_slug
from reports.site import build_site
from tests.conftest import PipelineBuild

COHORT = 2019
#: One school of the pipeline's warehouse gets a hostile code, name and professional family.
VICTIM, CODE, NAME, FAMILY = "ES-CISLAN", "../../../PWNED", "=SUM(1,2) school", "=2+3"


def _rename(con: duckdb.DuckDBPyConnection, old: str, new: str) -> None:
    """Replace a value wherever a text column of a base table holds exactly it."""
    columns = con.execute(
        """select c.table_schema, c.table_name, c.column_name
           from information_schema.columns c
           join information_schema.tables t using (table_catalog, table_schema, table_name)
           where t.table_type = 'BASE TABLE' and c.data_type = 'VARCHAR'"""
    ).fetchall()
    for schema, table, column in columns:
        con.execute(f'update "{schema}"."{table}" set "{column}" = ? where "{column}" = ?', [new, old])


@pytest.fixture(scope="module")
def hostile_site(
    pipeline_warehouse: PipelineBuild, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, list[Path]]:
    """The pipeline's warehouse with one school renamed as an attacker would name it, and its site."""
    base = tmp_path_factory.mktemp("hostile")
    warehouse = base / "wh" / "sample.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(pipeline_warehouse.warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        name, family = con.execute(
            "select min(school_name), min(professional_family) from raw.register where school_code = ?",
            [VICTIM],
        ).fetchall()[0]
        for old, new in ((VICTIM, CODE), (name, NAME), (family, FAMILY)):
            _rename(con, old, new)
    finally:
        con.close()
    out = base / "a" / "b" / "c" / "reports"
    out.mkdir(parents=True)
    build = build_site(warehouse, out, cohorts=[COHORT], languages=("en",))
    assert build.failures == []
    return base, out, build.written


def test_school_code_with_dot_dots_stays_under_reports(hostile_site) -> None:
    base, out, written = hostile_site
    everything = [p for p in base.rglob("*") if p.is_file()]
    assert not [p for p in everything if "PWNED" in p.name and not p.resolve().is_relative_to(out)]
    assert not (base / "PWNED").exists() and not (base / "a" / "PWNED").exists()
    exports = sorted((out / str(COHORT) / "exports").glob("*PWNED*"))
    assert [p.suffix for p in exports] == [".csv", ".xlsx"]
    assert all(p.name.startswith("PWNED_") and "/" not in p.name for p in exports)
    assert all(Path(p).resolve().is_relative_to(out.resolve()) for p in written)


def test_formula_text_is_text_in_the_xlsx(hostile_site) -> None:
    _base, out, _written = hostile_site
    xlsx = next((out / str(COHORT) / "exports").glob("PWNED_*.xlsx"))
    book = load_workbook(xlsx)  # not read-only: data_type is the stored cell type
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert [c for c in cells if c.data_type == "f"] == []
    families = [c for c in cells if c.value == "=2+3"]
    assert families and all(c.data_type == "s" for c in families)  # kept as written, as text
    assert any(c.value == "../../../PWNED" for c in cells)  # the about sheet names the real code


def test_formula_text_is_quoted_in_the_csv(hostile_site) -> None:
    _base, out, _written = hostile_site
    path = next((out / str(COHORT) / "exports").glob("PWNED_*.csv"))
    with path.open(encoding="utf-8-sig", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))] == []
    assert "'=2+3" in cells


def test_safe_cell_follows_the_owasp_rule() -> None:
    assert [safe_cell(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx")] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
    ]
    plain = ("ES-LABORAL", "a=b", 3, -2.5, None)
    assert [safe_cell(v) for v in plain] == list(plain)


def test_slugs_are_safe_and_distinct() -> None:
    assert safe_slug("ES-LABORAL") == "ES-LABORAL"
    slugs = {safe_slug(c) for c in ("../x", "..\\x", "/x", "x", "x/..", "")}
    assert len(slugs) == 6
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", s) for s in slugs)


def test_a_path_outside_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "link").symlink_to(tmp_path)
    assert inside(tmp_path / "reports", tmp_path / "reports" / "ok.csv") == tmp_path / "reports" / "ok.csv"
    for escape in (tmp_path / "reports" / ".." / "x.csv", tmp_path / "reports" / "link" / "x.csv"):
        with pytest.raises(ValueError, match="outside the output folder"):
            inside(tmp_path / "reports", escape)


def test_export_school_writes_nothing_outside_its_folder(hostile_site, tmp_path: Path) -> None:
    base, _out, _written = hostile_site
    warehouse = base / "wh" / "sample.duckdb"
    folder = tmp_path / "deep" / "exports"
    paths = export_school(warehouse, folder, COHORT, CODE)
    assert paths and all(p.parent == folder for p in paths)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(p.name for p in paths)
