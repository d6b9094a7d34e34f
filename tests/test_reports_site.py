"""The reports of a whole (small) warehouse: every page renders, every printed number is its row of
marts.indicators, nothing personal reaches the output, exports are protected and documented."""

from __future__ import annotations

import html as html_lib
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import pytest
from openpyxl import load_workbook

from reports.components import NumberFormatter, infer_kind
from reports.disclosure import base_of
from reports.engine import published_copy
from reports.exports import QUASI_IDENTIFIERS
from reports.i18n import LANGUAGES
from reports.sample_warehouse import SampleSchool, build
from reports.site import build_site

COHORT = 2019
SCHOOLS = (
    SampleSchool(
        "ES-LABORAL",
        "CIFP La Laboral",
        "ES",
        "ES12",
        ("es",),
        160,
        (("Fabricación Mecánica", "industry", 5), ("Sanidad", "services", 4)),
    ),
    SampleSchool("ES-AVILES", "CIFP de Avilés", "ES", "ES12", ("es",), 120, (("Sanidad", "services", 4),)),
    SampleSchool("ES-TINY", "CIFP Pequeño", "ES", "ES12", ("es",), 3, (("Sanidad", "services", 4),)),
    SampleSchool(
        "NL-ALFA", "Alfa-college", "NL", "NL11", ("nl", "en"), 140, (("Zorg en welzijn", "services", 4),)
    ),
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("wh") / "sample.duckdb", cohorts=(COHORT,), schools=SCHOOLS)


@pytest.fixture(scope="module")
def site(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("site")
    return out, build_site(warehouse, out)


def pages(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*.html") if p.name != "index.html")


def test_every_report_is_rendered(site: tuple[Path, list[Path]]) -> None:
    out, written = site
    folder = out / str(COHORT)
    for school in SCHOOLS:
        assert (folder / f"school__cohort-{COHORT}__school_code-{school.code}.html").is_file()
        assert (folder / f"school__cohort-{COHORT}__school_code-{school.code}.md").is_file()
        for lang in {*school.languages, "en"}:
            assert (
                folder / lang / f"student_summary__cohort-{COHORT}__school_code-{school.code}.html"
            ).is_file()
    for lang in LANGUAGES:
        assert (folder / lang / f"student_summary__cohort-{COHORT}__school_code-all.html").is_file()
    assert (folder / f"policy__cohort-{COHORT}__wave-m6.html").is_file()
    assert all(p.is_file() for p in written)
    index = (out / "index.html").read_text(encoding="utf-8")
    for page in pages(out):  # the index links every page
        assert page.relative_to(out).as_posix() in index
    assert "ES-LABORAL_2019_answers.xlsx" in index


def test_student_summary_is_in_its_language(site: tuple[Path, list[Path]]) -> None:
    out, _ = site
    folder = out / str(COHORT)
    expected = {
        "es": "Participantes y tasa de respuesta",
        "et": "Osalejad ja vastamismäär",
        "it": "Partecipanti e tasso di risposta",
        "nl": "Deelnemers en respons",
        "en": "Participants and response rate",
    }
    for lang, heading in expected.items():
        text = (folder / lang / f"student_summary__cohort-{COHORT}__school_code-all.html").read_text(
            encoding="utf-8"
        )
        assert f'<html lang="{lang}">' in text
        assert heading in text
    spanish = (folder / "es" / f"student_summary__cohort-{COHORT}__school_code-all.html").read_text(
        encoding="utf-8"
    )
    assert re.search(r"\d,\d\xa0%", spanish)  # Spanish number format: 73,1 %


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> dict[tuple, dict[str, Any]]:
    cursor = con.execute(sql)
    cols = [d[0] for d in cursor.description]
    out = {}
    for raw in cursor.fetchall():
        r = dict(zip(cols, raw, strict=True))
        out[
            (r["cohort"], r["wave"], r["indicator"], r["source"], r["breakdown"], str(r["breakdown_value"]))
        ] = r
    return out


def _text(fragment: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split()


ELEMENT = re.compile(r'<(div|td|span) (?:class="[^"]*" )?data-gt="([^"]+)"[^>]*>')


def test_every_number_on_a_page_is_its_row_of_marts_indicators(
    site: tuple[Path, list[Path]], warehouse: Path
) -> None:
    """Parse each number printed with its provenance and compare with the row, formatted."""
    out, _ = site
    con = duckdb.connect(str(warehouse), read_only=True)
    original = _rows(con, "select * from marts.indicators")
    con.close()
    pub = duckdb.connect(str(published_copy(warehouse)), read_only=True)
    published = _rows(pub, "select * from marts.indicators")
    pub.close()
    checked = hidden = 0
    for page in pages(out):
        text = page.read_text(encoding="utf-8")
        lang = re.search(r'<html lang="([^"]+)"', text).group(1)  # type: ignore[union-attr]
        numbers = NumberFormatter(lang, lambda s: s)
        for match in ELEMENT.finditer(text):
            key_data = json.loads(html_lib.unescape(match.group(2)))
            key = (
                key_data["cohort"],
                key_data["wave"],
                key_data["indicator"],
                key_data["source"],
                key_data["breakdown"],
                str(key_data["breakdown_value"]),
            )
            row, shown = original[key], published[key]
            rest = text[match.end() : match.end() + 2000]
            if match.group(1) == "div":  # big value: the number is in its own div
                printed = re.search(r'<div class="bv-number">(.*?)</div>', rest).group(1)  # type: ignore[union-attr]
            else:
                printed = rest[: rest.find(f"</{match.group(1)}>")]
            words = _text(printed)
            if shown["suppressed"]:
                assert words[0] == "–", (page.name, key, words)
                hidden += 1
                continue
            expected = numbers.format(row["value"], infer_kind(row))
            assert (
                " ".join(words).startswith(expected.replace("\xa0", " ").strip()) or words[0] == expected
            ), (
                page.name,
                key,
                words,
                expected,
            )
            assert base_of(row) is None or base_of(row) >= 5  # no published cell under the threshold
            checked += 1
    assert checked > 300 and hidden > 0


def test_no_personal_value_in_any_output_file(site: tuple[Path, list[Path]], warehouse: Path) -> None:
    out, _ = site
    con = duckdb.connect(str(warehouse), read_only=True)
    people = con.execute(
        "select student_id, national_id, email, first_name || ' ' || last_name "
        "from restricted.register_identifiers"
    ).fetchall()
    con.close()
    needles = {v for row in people for v in row if v and len(v) >= 6}
    assert needles
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.suffix == ".xlsx" for p in files) and any(p.suffix == ".csv" for p in files)
    for path in files:
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                content = " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        else:
            content = path.read_text(encoding="utf-8", errors="replace")
        found = [n for n in needles if n in content]
        assert not found, (path, found[:3])


def test_school_export_has_answers_and_codebook_and_is_protected(site: tuple[Path, list[Path]]) -> None:
    out, _ = site
    exports = out / str(COHORT) / "exports"
    assert not list(exports.glob("ES-TINY_*"))  # 3 graduates: no export
    book = load_workbook(exports / "ES-LABORAL_2019_answers.xlsx", read_only=True)
    assert book.sheetnames == ["answers", "codebook", "about"]
    rows = list(book["answers"].values)
    header, data = rows[0], rows[1:]
    assert header[:3] == ("graduate_key", "cohort", "wave")
    assert not {"national_id", "email", "first_name", "last_name", "student_id", "response_key"} & set(header)
    assert {r[2] for r in data} == {"pre_graduation", "m6", "m18"}
    codebook = {r[0]: r for r in list(book["codebook"].values)[1:]}
    assert set(codebook) == set(header)
    assert "work = Work" in codebook["current_status"][2]
    assert codebook["unemployment_reasons"][2].startswith("several codes")
    # k-anonymity of the group attributes, per graduate
    per_graduate = {r[0]: tuple(r[header.index(q)] for q in QUASI_IDENTIFIERS) for r in data}
    counts: dict[tuple, int] = {}
    for combo in per_graduate.values():
        counts[combo] = counts.get(combo, 0) + 1
    assert all(n >= 5 or combo == (None,) * len(QUASI_IDENTIFIERS) for combo, n in counts.items())
    csv_text = (exports / "ES-LABORAL_2019_answers.csv").read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0] == ",".join(header)
    assert len(csv_text.splitlines()) == len(data) + 1


def test_tiny_school_numbers_are_hidden_with_complements(
    site: tuple[Path, list[Path]], warehouse: Path
) -> None:
    out, _ = site
    page = (out / str(COHORT) / f"school__cohort-{COHORT}__school_code-ES-TINY.html").read_text(
        encoding="utf-8"
    )
    assert "not shown: fewer than 5 graduates" in page
    con = duckdb.connect(str(published_copy(warehouse)), read_only=True)
    hidden = dict(
        con.execute(
            """select breakdown_value, suppression from marts.indicators
               where cohort = 2019 and wave = 'm6' and indicator = 'response_rate' and breakdown = 'school'
                 and suppressed"""
        ).fetchall()
    )
    con.close()
    assert hidden["ES-TINY"] == "primary"
    assert "secondary" in hidden.values()  # a complement, so ES-TINY = region - others fails
