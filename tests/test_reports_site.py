"""The report site of a warehouse the real pipeline built (the session's ``pipeline_warehouse``):
every page of every school is written and shows its headline figures, every printed number is its
published row, no base under the threshold is shown, no figure on a base at or above it is hidden,
re-publishing a cohort changes nothing else, nothing personal reaches the output."""

from __future__ import annotations

import hashlib
import html as html_lib
import re
import shutil
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest
from openpyxl import load_workbook

from reports.components import NumberFormatter, infer_kind
from reports.disclosure import DEFAULT_POLICY
from reports.engine import published_copy
from reports.exports import QUASI_IDENTIFIERS
from reports.i18n import LANGUAGES
from reports.site import SiteBuild, build_cohort, build_site, discover
from tests.conftest import REPORT_SAMPLE_COHORTS, SMALL_GROUP_SEX_X, PipelineBuild, read_landing_csv
from tests.report_pages import indicator_key, printed_figures, words

THRESHOLD = DEFAULT_POLICY.threshold


@pytest.fixture(scope="module")
def site(
    pipeline_warehouse: PipelineBuild, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, SiteBuild]:
    out = tmp_path_factory.mktemp("site")
    return out, build_site(pipeline_warehouse.warehouse, out)


@pytest.fixture(scope="module")
def rows(pipeline_warehouse: PipelineBuild) -> tuple[dict[tuple, dict], dict[tuple, dict]]:
    """marts.indicators as the warehouse has it and as it is published, by key."""

    def read(path: Path) -> dict[tuple, dict[str, Any]]:
        con = duckdb.connect(str(path), read_only=True)
        try:
            cursor = con.execute("select * from marts.indicators")
            cols = [d[0] for d in cursor.description]
            found = [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]
        finally:
            con.close()
        return {indicator_key(r): r for r in found}

    return read(pipeline_warehouse.warehouse), read(published_copy(pipeline_warehouse.warehouse))


def pages(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*.html") if p.name != "index.html")


def visible_text(html: str) -> str:
    html = re.sub(r"<(style|script|svg)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(words(html))


def test_every_page_of_every_school_is_written_and_indexed_by_name(site: tuple[Path, SiteBuild]) -> None:
    out, build = site
    assert build.failures == []
    index = (out / "index.html").read_text(encoding="utf-8")
    for cohort in REPORT_SAMPLE_COHORTS:
        folder = out / str(cohort)
        assert (folder / f"policy__cohort-{cohort}__wave-m6.html").is_file()
        for lang in LANGUAGES:
            assert (folder / lang / f"student_summary__cohort-{cohort}__school_code-all.html").is_file()
    assert all(p.is_file() for p in build.written)
    for page in pages(out):  # the top index links every page
        assert page.relative_to(out).as_posix() in index


def test_each_cohort_lists_its_schools_by_name_with_their_pages(
    site: tuple[Path, SiteBuild], pipeline_warehouse: PipelineBuild
) -> None:
    out, _ = site
    catalog = discover(pipeline_warehouse.warehouse)
    assert set(catalog.cohorts) == set(REPORT_SAMPLE_COHORTS)
    top = (out / "index.html").read_text(encoding="utf-8")
    for cohort in catalog.cohorts:
        schools = catalog.schools[cohort]
        assert len(schools) >= 5
        folder = out / str(cohort)
        index = (folder / "index.html").read_text(encoding="utf-8")
        for school in schools:
            assert html_lib.escape(school.name) in index and html_lib.escape(school.name) in top
            assert f"school__cohort-{cohort}__school_code-{school.code}.html" in index
            assert (folder / f"school__cohort-{cohort}__school_code-{school.code}.html").is_file()
            for lang in {*school.languages, "en"} & set(LANGUAGES):
                name = f"{lang}/student_summary__cohort-{cohort}__school_code-{school.code}.html"
                assert (folder / name).is_file() and name in index
            assert f"exports/{school.code}_{cohort}_answers.xlsx" in index
        # the page titles are not what a reader looks for: no list of identical titles
        assert index.count("What did the graduates") <= len(LANGUAGES) + 1


def test_every_school_page_shows_graduates_response_rate_and_status_bars(
    site: tuple[Path, SiteBuild], pipeline_warehouse: PipelineBuild
) -> None:
    out, _ = site
    catalog = discover(pipeline_warehouse.warehouse)
    for cohort in catalog.cohorts:
        for school in catalog.schools[cohort]:
            page = out / str(cohort) / f"school__cohort-{cohort}__school_code-{school.code}.html"
            shown = {k: w for k, w in printed_figures(page) if k[4] == "school" and k[5] == school.code}
            graduates = shown[(cohort, "m6", "graduates", "survey", "school", school.code)]
            assert re.fullmatch(r"[\d,]+", graduates[0]) and int(graduates[0].replace(",", "")) >= 20, (
                page.name,
                graduates,
            )
            rate = shown[(cohort, "m6", "response_rate", "survey", "school", school.code)]
            assert re.fullmatch(r"\d{1,3}\.\d%", rate[0]), (page.name, rate)
            html = page.read_text(encoding="utf-8")
            start = html.find("<figcaption>Current status of those who answered")
            figure = html[start : html.find("</figure>", start)]
            numbers = visible_text(figure[figure.find("<details") :])
            row = re.search(r"This school, 6 months \(n = ([\d,]+)\)((?: (?:\d+\.\d%(?: ⚠)?|–))+)", numbers)
            assert row, (page.name, numbers[:300])
            shares = [w for w in row.group(2).split() if w != "⚠"]  # ⚠: low precision, shown
            assert len(shares) >= 5 and shares.count("–") <= 1, (page.name, numbers[:300])
            bars = re.findall(r'<path d="M[\d.]+,[\d.]+h([\d.]+)v', figure)
            assert sum(float(w) > 1 for w in bars) >= 8, page.name  # 4 rows of bars are drawn


def test_every_printed_number_is_its_published_row_and_no_small_base_is_shown(
    site: tuple[Path, SiteBuild], rows: tuple[dict, dict]
) -> None:
    out, _ = site
    original, published = rows
    checked = hidden = 0
    for page in pages(out):
        text = page.read_text(encoding="utf-8")
        lang = re.search(r'<html lang="([^"]+)"', text).group(1)  # type: ignore[union-attr]
        numbers = NumberFormatter(lang, lambda s: s)
        for key, printed in printed_figures(page):
            shown = published[key]
            if shown["suppressed"]:  # – small base or hidden, .. no data
                assert printed[0] == ("..", "–")[shown["mark"] != "no_data"], (page.name, key, printed)
                hidden += 1
                continue
            assert shown["base"] is None or shown["base"] >= THRESHOLD
            raw_base = original[key]["denominator"]
            assert raw_base is None or raw_base >= THRESHOLD or key[3] != "survey", (page.name, key)
            expected = numbers.format(shown["value"], infer_kind(shown)).replace("\xa0", " ").strip()
            assert " ".join(printed).startswith(expected) or printed[0] == expected, (
                page.name,
                key,
                printed,
                expected,
            )
            checked += 1
    assert checked > 2000 and hidden > 0


def test_no_figure_on_a_base_at_or_above_the_threshold_is_hidden(rows: tuple[dict, dict]) -> None:
    """The policy's promise, over the whole published file: information loss is nil above the
    threshold, and every hidden figure is small, empty or flagged upstream."""
    original, published = rows
    assert set(published) <= set(original)  # the published breakdowns
    above = [k for k, r in published.items() if r["mark"] not in ("small_base", "no_data")]
    lost = [k for k, r in published.items() if r["suppressed"] and r["mark"] not in ("small_base", "no_data")]
    assert above and lost == []
    for k, r in published.items():
        if r["suppressed"]:
            assert r["value"] is None and r["base"] is None and r["numerator"] is None
        else:  # shares keep their value; counts are rounded to the base
            if r["indicator"] == "graduates":
                assert r["value"] % DEFAULT_POLICY.rounding_base == 0
                assert abs(r["value"] - original[k]["value"]) <= DEFAULT_POLICY.rounding_base / 2
            elif original[k]["value"] is not None and 0 <= original[k]["value"] <= 1:
                assert r["value"] == pytest.approx(original[k]["value"])


def test_the_small_group_is_hidden_and_hides_nothing_else(rows: tuple[dict, dict]) -> None:
    """Sex X has 4 graduates in 2019: its figures are hidden with the small-base mark, and the
    school, region and national figures stay published (the cascade the issue found)."""
    original, published = rows
    x = [k for k in published if k[0] == 2019 and k[4] == "sex" and k[5] == "X"]
    assert x and all(published[k]["suppressed"] for k in x)
    assert {published[k]["mark"] for k in x} <= {"small_base", "no_data"}
    graduates = original[(2019, "m6", "graduates", "survey", "sex", "X")]
    assert SMALL_GROUP_SEX_X <= graduates["value"] < THRESHOLD
    for k, r in published.items():
        if k[0] == 2019 and k[2] in ("graduates", "response_rate") and k[4] in ("total", "school", "region"):
            assert not r["suppressed"], k


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_republishing_a_cohort_leaves_every_page_identical(
    site: tuple[Path, SiteBuild], pipeline_warehouse: PipelineBuild, tmp_path: Path
) -> None:
    out, _ = site
    copy = tmp_path / "site"
    shutil.copytree(out, copy)
    before = {c: _digest(copy / str(c)) for c in REPORT_SAMPLE_COHORTS}
    again = build_cohort(pipeline_warehouse.warehouse, copy, REPORT_SAMPLE_COHORTS[-1])
    assert again.failures == []
    for cohort in REPORT_SAMPLE_COHORTS:
        assert _digest(copy / str(cohort)) == before[cohort], cohort


def test_student_summaries_read_as_sentences_in_their_language(site: tuple[Path, SiteBuild]) -> None:
    out, _ = site
    headings = {
        "es": "Participantes y tasa de respuesta",
        "et": "Osalejad ja vastamismäär",
        "it": "Partecipanti e tasso di risposta",
        "nl": "Deelnemers en respons",
        "en": "Participants and response rate",
    }
    for cohort in REPORT_SAMPLE_COHORTS:
        for lang, heading in headings.items():
            for page in (out / str(cohort) / lang).glob("student_summary__*.html"):
                html = page.read_text(encoding="utf-8")
                text = visible_text(html)
                assert f'<html lang="{lang}">' in html and heading in text
                # a sentence ends with a space before the next one (not "with a job.67.5%")
                assert not re.search(r"[a-zà-ÿ]\.[A-ZÁÉÍÓÚÀ-Ý0-9]", text), (page.name, text[:200])
                assert not re.search(r"\ball\b", text) or lang == "en", page.name
                if lang == "it":  # elision before a vowel sound: l'81,8 %, l'11 %
                    assert not re.search(r"\b(il|del|al|dal) (8\d?|11)(,\d)?\s?%", text), page.name
                if lang == "nl":  # one form of address, and Dutch
                    assert not re.search(r"\bje\b", text) or not re.search(r"\bjullie\b", text), page.name
                    assert "combineert erbij" not in text
                if lang == "es":
                    assert re.search(r"\d,\d\xa0%|\d,\d %", text)  # 73,1 %


def test_no_personal_value_in_any_output_file(
    site: tuple[Path, SiteBuild], pipeline_warehouse: PipelineBuild
) -> None:
    """The identifiers as the schools sent them (the landing register files), nowhere in the site."""
    out, _ = site
    people = []
    for register in (pipeline_warehouse.landing / "register").glob("*.csv"):
        table, *_ = read_landing_csv(register)
        header = table[0]
        for row in table[1:]:
            r = dict(zip(header, row, strict=False))
            name = f"{r.get('first_name', '')} {r.get('last_name', '')}".strip()
            people.append(
                (*tuple(r.get(c) for c in ("student_id", "national_id", "email", "phone", "token")), name)
            )
    needles = {tuple(_tokens(v)) for row in people for v in row if v and len(v) >= 6}
    assert len(needles) > 1000
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.suffix == ".xlsx" for p in files) and any(p.suffix == ".csv" for p in files)
    lengths = {len(n) for n in needles}
    for path in files:
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                content = " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        else:
            content = path.read_text(encoding="utf-8", errors="replace")
        words = _tokens(html_lib.unescape(content))
        seen = {tuple(words[k : k + n]) for n in lengths for k in range(len(words) - n + 1)}
        found = needles & seen
        assert not found, (path, sorted(found)[:3])


def _tokens(text: str) -> list[str]:
    """Words as identifiers are written (e-mails, ids, phone parts), so that a value is found as
    itself and not inside a chart coordinate or a hexadecimal pseudonym."""
    return [t.strip(".-'") for t in re.findall(r"[\w@.+\-']+", text)]


def test_school_export_has_answers_and_codebook_and_is_protected(
    site: tuple[Path, SiteBuild], pipeline_warehouse: PipelineBuild
) -> None:
    out, _ = site
    cohort = REPORT_SAMPLE_COHORTS[0]
    exports = out / str(cohort) / "exports"
    books = sorted(exports.glob("*.xlsx"), key=lambda p: p.stat().st_size)
    assert len(books) == len(discover(pipeline_warehouse.warehouse).schools[cohort])
    book = load_workbook(books[-1], read_only=True)
    assert book.sheetnames == ["answers", "codebook", "about"]
    table = list(book["answers"].values)
    header, data = table[0], table[1:]
    assert header[:3] == ("graduate_key", "cohort", "wave")
    assert not {"national_id", "email", "first_name", "last_name", "student_id", "response_key"} & set(header)
    assert {r[2] for r in data} == {"pre_graduation", "m6", "m18"}
    codebook = {r[0]: r for r in list(book["codebook"].values)[1:]}
    assert set(codebook) == set(header)
    assert "work = Work" in codebook["current_status"][2]
    per_graduate = {r[0]: tuple(r[header.index(q)] for q in QUASI_IDENTIFIERS) for r in data}
    counts = Counter(per_graduate.values())
    assert all(n >= 5 or combo == (None,) * len(QUASI_IDENTIFIERS) for combo, n in counts.items())
    csv_text = books[-1].with_suffix(".csv").read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0] == ",".join(header)
    assert len(csv_text.splitlines()) == len(data) + 1


def information_loss(
    out: Path, original: dict[tuple, dict], published: dict[tuple, dict]
) -> dict[str, tuple]:
    """Per page family: figures printed, hidden, and hidden although their base is at least the
    threshold (the information a policy loses; docs/disclosure.md reports these numbers)."""
    families: dict[str, list[int]] = {}
    for page in pages(out):
        family = page.name.split("__")[0]
        counts = families.setdefault(family, [0, 0, 0])
        for key, _printed in printed_figures(page):
            row, shown = original[key], published[key]
            counts[0] += 1
            if shown["suppressed"]:
                counts[1] += 1
                base = row["numerator"] if key[2] == "graduates" else row["denominator"]
                counts[2] += shown["mark"] not in ("small_base", "no_data") or (
                    key[3] == "survey"
                    and base is not None
                    and base >= THRESHOLD
                    and shown["mark"] != "no_data"
                )
    return {f: (n, hidden, lost, lost / n) for f, (n, hidden, lost) in families.items()}


def test_information_loss_per_page_family_is_nil(
    site: tuple[Path, SiteBuild], rows: tuple[dict, dict], capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = site
    loss = information_loss(out, *rows)
    assert {"school", "student_summary", "policy"} <= set(loss)
    with capsys.disabled():
        for family, (n, hidden, lost, share) in sorted(loss.items()):
            line = f"{n} figures, {hidden} hidden, {lost} of them on a base >= {THRESHOLD} ({share:.2%})"
            print(f"\ninformation loss {family}: {line}")
    assert all(lost == 0 for _n, _hidden, lost, _share in loss.values()), loss
    assert all(hidden < n for n, hidden, _lost, _share in loss.values())


def test_a_page_that_cannot_render_is_named_and_the_rest_is_written(
    pipeline_warehouse: PipelineBuild, tmp_path: Path
) -> None:
    """One school's plan -> status rows doubled (a shape the flow cannot draw): the report asset,
    run by Dagster, names that page with its school and query, writes every other page, and its
    non-blocking check fails with the listing the CLI prints."""
    import dagster as dg

    from orchestration.cli import _failed_pages
    from orchestration.defs.reports.assets import ReportsFolder, report_site
    from orchestration.defs.warehouse.resources import WarehouseDuckDB

    cohort, victim = REPORT_SAMPLE_COHORTS[0], "ES-CISLAN"
    warehouse = tmp_path / "wh" / "gradtrack.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(pipeline_warehouse.warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(
            """insert into marts.plan_status_transitions
               select * from marts.plan_status_transitions
               where cohort = ? and breakdown = 'school' and breakdown_value = ?""",
            [cohort, victim],
        )
    finally:
        con.close()
    out = tmp_path / "reports"
    result = dg.materialize(
        [report_site],
        resources={
            "duckdb": WarehouseDuckDB(database=str(warehouse)),
            "reports_folder": ReportsFolder(path=str(out)),
        },
        partition_key=str(cohort),
        raise_on_error=False,
    )
    assert result.success
    failed = _failed_pages(result)
    # the school report and the school's two student summaries draw that flow; each is named
    assert {f.split(" (")[0] for f in failed} == {"school.md", "student_summary.md"}, failed
    assert len(failed) == 3, "\n".join(failed)
    assert all(f"school_code = {victim}" in f and "query 'flows'" in f for f in failed)
    folder = out / str(cohort)
    assert not (folder / f"school__cohort-{cohort}__school_code-{victim}.html").exists()
    catalog = discover(warehouse)
    for school in catalog.schools[cohort]:
        if school.code != victim:
            assert (folder / f"school__cohort-{cohort}__school_code-{school.code}.html").is_file()
    for lang in LANGUAGES:
        assert (folder / lang / f"student_summary__cohort-{cohort}__school_code-all.html").is_file()
    assert (folder / "exports" / f"{victim}_{cohort}_answers.xlsx").is_file()
    assert (out / "index.html").is_file()
