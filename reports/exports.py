"""Raw data for a school: its own graduates' pseudonymised answers, as CSV and XLSX with a codebook.

TRACKTION schools get a report *and* the raw data behind it, to run their own analyses. The
export holds one row per graduate and survey wave they answered: the ``graduate_key`` pseudonym
(the only identifier), a few group attributes and the coded answers. No names, e-mails, national
ids, free text, timestamps, administrative records or linkage details.

Disclosure control (``reports.disclosure.protect_microdata``): the group attributes
(professional family, qualification, EQF level, sex) are blanked, most specific first, for
graduates whose combination is shared by fewer than ``threshold`` graduates of the file; a school
with fewer respondents than the threshold gets no export.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ingestion.contract import (
    CODEBOOK,
    MULTI_CHOICE,
    POST_GRADUATION_ITEMS,
    PRE_GRADUATION_ITEMS,
    SHARED_ITEMS,
)
from reports.disclosure import DEFAULT_THRESHOLD, protect_microdata
from reports.labels import CODE_LABELS, humanize

__all__ = [
    "ANSWER_COLUMNS",
    "QUASI_IDENTIFIERS",
    "export_school",
    "inside",
    "safe_cell",
    "safe_slug",
    "school_answers",
]

#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")

#: Attributes kept for analysis, least specific first (blanked from the end when rare).
QUASI_IDENTIFIERS: tuple[str, ...] = ("professional_family", "qualification_code", "eqf_level", "sex")
#: The survey items of the contract, in questionnaire order (one place: ingestion/contract.py).
ANSWER_COLUMNS: tuple[str, ...] = PRE_GRADUATION_ITEMS + POST_GRADUATION_ITEMS + SHARED_ITEMS
MEANINGS: dict[str, str] = {
    "graduate_key": "Pseudonym of the graduate (the same in every wave and file of this warehouse)",
    "cohort": "Graduation year",
    "wave": "Survey wave answered",
    "professional_family": "Professional family of the qualification (blank: too few graduates to show)",
    "qualification_code": "Qualification code (blank: too few graduates to show)",
    "eqf_level": "EQF level of the qualification (blank: too few graduates to show)",
    "sex": "Sex in the register (blank: too few graduates to show)",
    "plan_after_graduation": "Plan after graduation, asked before graduating",
    "prior_work_experience": "Work experience before the course",
    "perceived_opportunities_region": "Job opportunities perceived in the region (1 = very few, 5 = many)",
    "perceived_opportunities_sector": "Job opportunities perceived in the sector (1 = very few, 5 = many)",
    "alumni_contact_consent": "Agrees to be contacted as an alumnus/alumna",
    "current_status": "Current situation",
    "months_to_first_job": "Time to find the first job",
    "job_found_via": "How the job was found",
    "job_related_to_qualification": "Job related to the qualification",
    "contract_type": "Type of contract",
    "working_time": "Working time",
    "unpaid_extra_hours": "Works unpaid extra hours",
    "monthly_net_wage_band": "Monthly net wage",
    "job_seeking_while_employed": "Looking for another job while employed",
    "study_level": "Level of current studies",
    "study_related_to_qualification": "Studies related to the qualification",
    "unemployment_reasons": "Reasons for unemployment",
    "had_job_since_graduation": "Has had a job since graduation",
    "expectations_met": "Expectations met",
    "relevant_skills": "Most relevant skills developed",
    "wish_learned_more": "Would have liked to learn more about",
    "alumni_contribution": "How they would contribute as alumni",
}
CODE_TEXT: dict[str, str] = {
    "yes": "yes",
    "no": "no",
    "partly": "partly",
    "lt1": "less than 1 month",
    "1to3": "1 to 3 months",
    "3to6": "3 to 6 months",
    "6to12": "6 to 12 months",
    "gt12": "more than 12 months",
    "lt1000": "less than 1,000 €",
    "1000to1499": "1,000 to 1,499 €",
    "1500to1999": "1,500 to 1,999 €",
    "ge2000": "2,000 € or more",
    "prefer_not": "prefers not to say",
    "pre_graduation": "before graduation",
    "m6": "6 months after graduation",
    "m18": "18 months after graduation",
}


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """The columns of a table, or [] when it does not exist."""
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema, table],
    ).fetchall()
    return [r[0] for r in rows]


def school_answers(
    con: duckdb.DuckDBPyConnection, cohort: int, school_code: str, threshold: int = DEFAULT_THRESHOLD
) -> tuple[list[str], list[dict[str, Any]]]:
    """The export's columns and rows (already protected); no rows when too few respondents."""
    attrs_table = "marts.dim_graduate" if _exists(con, "marts", "dim_graduate") else None
    if attrs_table is None:
        attrs_table = (
            "staging.stg_register__graduates" if _exists(con, "staging", "stg_register__graduates") else None
        )
    if attrs_table is None:
        return [], []
    graduates = con.execute(
        f"select graduate_key, cohort, {', '.join(QUASI_IDENTIFIERS)} from {attrs_table} "
        "where cohort = ? and school_code = ? order by graduate_key",
        [cohort, school_code],
    ).fetchall()
    attrs = {
        g[0]: dict(zip(("graduate_key", "cohort", *QUASI_IDENTIFIERS), g, strict=True)) for g in graduates
    }
    # Every wave from the survey responses (respondent records linked to a graduate); without
    # that mart, the post-graduation answers of the outcomes.
    # Only this school's and cohort's graduates leave DuckDB (the whole mart per school was a full
    # round-trip of every response through Python for each export).
    own_graduates = (
        f"graduate_key in (select graduate_key from {attrs_table} where cohort = ? and school_code = ?)"
    )
    survey_cols = _exists(con, "marts", "fct_survey_responses")
    if survey_cols:
        cols = [c for c in ANSWER_COLUMNS if c in survey_cols]
        query = (
            f"select graduate_key, wave, {', '.join(cols)} from marts.fct_survey_responses "
            "where graduate_key is not null"
        )
        if "is_respondent_record" in survey_cols:
            query += " and is_respondent_record"
    else:
        outcome_cols = _exists(con, "marts", "fct_graduate_outcomes")
        cols = [c for c in ANSWER_COLUMNS if c in outcome_cols]
        query = f"select graduate_key, wave, {', '.join(cols)} from marts.fct_graduate_outcomes"
        query += " where is_respondent"
    cursor = con.execute(f"{query} and {own_graduates}", [cohort, school_code])
    names = [d[0] for d in cursor.description or ()]
    answers = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    respondents = {a["graduate_key"] for a in answers}
    if len(respondents) < threshold:
        return [], []
    protected = {
        p["graduate_key"]: p
        for p in protect_microdata([attrs[k] for k in sorted(respondents)], QUASI_IDENTIFIERS, threshold)
    }
    present = [c for c in ANSWER_COLUMNS if any(c in a for a in answers)]
    columns = ["graduate_key", "cohort", "wave", *QUASI_IDENTIFIERS, *present]
    order = {"pre_graduation": 0, "m6": 1, "m18": 2}
    rows = []
    for a in sorted(answers, key=lambda a: (a["graduate_key"], order.get(a["wave"], 9))):
        row = {**protected[a["graduate_key"]], "wave": a["wave"]}
        row.update({c: a.get(c) for c in present})
        rows.append({c: row.get(c) for c in columns})
    return columns, rows


def codebook(columns: Sequence[str]) -> list[tuple[str, str, str]]:
    """(column, meaning, codes and labels) for each exported column."""
    out = []
    for col in columns:
        codes = CODEBOOK.get(col, ())
        if col == "wave":
            codes = ("pre_graduation", "m6", "m18")
        text = "; ".join(f"{c} = {_code_label(c)}" for c in codes)
        if col in MULTI_CHOICE:
            text = "several codes separated by ';': " + text
        out.append((col, MEANINGS.get(col, humanize(col)), text))
    return out


def _code_label(code: str) -> str:
    return CODE_TEXT.get(code) or CODE_LABELS.get(code) or humanize(code)


def safe_slug(code: str) -> str:
    """A file-name part made of ``[A-Za-z0-9_-]`` only: codes come from the landing files, and a code
    such as ``../../x`` must never become a path. A changed code gets a hash of the original, so two
    codes that map to the same slug still get two files."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", code).strip("_") or "_"
    if slug != code:
        slug += "_" + hashlib.sha256(code.encode("utf-8")).hexdigest()[:8]
    return slug


def inside(root: str | Path, path: str | Path) -> Path:
    """``path`` resolved (symlinks followed); raises ValueError unless it lies under ``root``."""
    resolved, top = Path(path).resolve(), Path(root).resolve()
    if not resolved.is_relative_to(top):
        raise ValueError(f"refusing to write {resolved}: it is outside the output folder {top}")
    return resolved


def safe_cell(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs: text starting with ``= + - @``, tab or CR gets a leading
    ``'`` (the OWASP rule); numbers and other values are unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _text_cells(ws: Any, values: Sequence[Any], bold: bool = False) -> list[Any]:
    """One row of write-only cells; every string stays a string cell: openpyxl would store text
    starting with ``=`` as a formula, so the type is set back to text (the value stays as written)."""
    cells = []
    for value in values:
        cell = WriteOnlyCell(ws, value=value)
        if isinstance(value, str) and cell.data_type != "s":
            cell.data_type = "s"
        if bold:
            cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def _write_sheet(
    book: Any, title: str, header: Sequence[Any], body: Sequence[Sequence[Any]], freeze: str | None = None
) -> None:
    """A sheet streamed row by row (openpyxl's write-only mode: no cell objects kept in memory),
    bold header, columns as wide as their longest value (10 to 80 characters)."""
    ws = book.create_sheet(title)
    for i, column in enumerate(zip(header, *body, strict=True), start=1):
        width = max(len(str("" if v is None else v)) for v in column)
        ws.column_dimensions[get_column_letter(i)].width = min(max(10, width + 2), 80)
    ws.freeze_panes = freeze
    ws.append(_text_cells(ws, header, bold=True))
    for values in body:
        ws.append(_text_cells(ws, values))


def export_school(
    warehouse: str | Path | duckdb.DuckDBPyConnection,
    out_dir: str | Path,
    cohort: int,
    school_code: str,
    threshold: int = DEFAULT_THRESHOLD,
) -> list[Path]:
    """Write ``<school>_<cohort>_answers.csv`` and ``.xlsx`` (answers, codebook, about); returns
    the paths, none when the school has too few respondents to export."""
    own = not isinstance(warehouse, duckdb.DuckDBPyConnection)
    con = (
        duckdb.connect(str(warehouse), read_only=True, config={"enable_external_access": False})
        if own
        else warehouse
    )
    try:
        columns, rows = school_answers(con, cohort, school_code, threshold)
    finally:
        if own:
            con.close()
    if not rows:
        return []
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{safe_slug(school_code)}_{int(cohort)}_answers"
    csv_path, xlsx_path = inside(out, out / f"{stem}.csv"), inside(out, out / f"{stem}.xlsx")
    with csv_path.open("w", encoding="utf-8-sig", newline="") as handle:  # BOM: Excel reads UTF-8
        writer = csv.writer(handle)
        writer.writerow([safe_cell(c) for c in columns])
        writer.writerows([["" if r[c] is None else safe_cell(r[c]) for c in columns] for r in rows])

    book = Workbook(write_only=True)
    _write_sheet(book, "answers", columns, [[r[c] for c in columns] for r in rows], freeze="B2")
    _write_sheet(book, "codebook", ["column", "meaning", "codes and labels"], codebook(columns))
    about = [
        ("Cohort", cohort),
        ("Rows", f"{len(rows)} (one per graduate and survey wave answered)"),
        ("Graduates", len({r["graduate_key"] for r in rows})),
        ("Identifiers", "graduate_key is a pseudonym; no names, e-mails or national ids are included"),
        (
            "Disclosure control",
            f"group attributes blanked where fewer than {threshold} graduates of this file share them",
        ),
        ("Made by", "gradtrack reports (reports/exports.py)"),
    ]
    _write_sheet(book, "about", ("School", school_code), about)
    book.save(xlsx_path)
    _reproducible(xlsx_path)
    return [csv_path, xlsx_path]


def _reproducible(path: Path) -> None:
    """Same data, same bytes (re-publishing a cohort must change nothing): openpyxl stamps the save
    time into docProps/core.xml and every zip entry; fix both."""
    with zipfile.ZipFile(path) as package:
        items = [(i.filename, package.read(i.filename)) for i in package.infolist()]
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in items:
            if name == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*<", rb"\g<1>2000-01-01T00:00:00Z<", data
                )
            package.writestr(
                zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED
            )
    os.replace(tmp, path)
