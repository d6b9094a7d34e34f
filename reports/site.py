"""Build every report of a warehouse: per cohort, the school reports, the student summaries in
each school's languages, the policy report, the raw data exports, and an index linking them.

Plain functions so that the orchestration can call them as it likes (a Dagster asset per cohort
partition, ``gradtrack run --reports DIR``)::

    build_site(Path("warehouse/gradtrack.duckdb"), Path("build/reports"))
    build_cohort(Path("warehouse/gradtrack.duckdb"), Path("build/reports"), 2019)

Layout of ``out_dir``::

    index.html                                   every page and export of every cohort
    2019/index.html                              the cohort's pages and exports
    2019/school__cohort-2019__school_code-X.html (and .md: the diff-able text)
    2019/policy__cohort-2019__wave-m6.html
    2019/<lang>/student_summary__cohort-2019__school_code-X.html   (X = all: every school)
    2019/exports/X_2019_answers.csv, .xlsx

Pages are rendered from the disclosure-controlled copy of the warehouse (``reports.disclosure``),
opened once per cohort. Exports read the warehouse's pseudonymised facts and go through
``protect_microdata``.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from reports.disclosure import DEFAULT_THRESHOLD, register_relation
from reports.engine import RenderedPage, open_published, render_page, render_site
from reports.exports import export_school, inside
from reports.i18n import LANGUAGES, language_name, translations

__all__ = ["PAGES_DIR", "Catalog", "build_cohort", "build_site", "discover"]

PAGES_DIR = Path(__file__).parent / "pages"


@dataclass(frozen=True)
class SchoolInfo:
    """A school of one cohort and the languages its graduates use."""

    code: str
    name: str
    languages: tuple[str, ...]


@dataclass(frozen=True)
class Catalog:
    """What a warehouse holds reports for."""

    cohorts: tuple[int, ...]
    schools: dict[int, tuple[SchoolInfo, ...]]


def discover(warehouse: Path) -> Catalog:
    """Cohorts with indicators, their schools and each school's languages (from the register)."""
    con = duckdb.connect(str(warehouse), read_only=True, config={"enable_external_access": False})
    try:
        cohorts = tuple(
            r[0] for r in con.execute("select distinct cohort from marts.indicators order by 1").fetchall()
        )
        register = register_relation(con)
        schools: dict[int, tuple[SchoolInfo, ...]] = {}
        if register:
            rows = con.execute(
                f"""select cohort, school_code, min(school_name),
                           list(distinct language order by language) filter (where language is not null)
                    from {register} group by cohort, school_code order by cohort, school_code"""
            ).fetchall()
            for cohort, code, name, langs in rows:
                known = tuple(lang for lang in (langs or []) if lang in LANGUAGES)
                schools.setdefault(cohort, ())
                schools[cohort] += (SchoolInfo(code, name or code, known),)
    finally:
        con.close()
    return Catalog(cohorts, schools)


def build_cohort(
    warehouse: str | Path,
    out_dir: str | Path,
    cohort: int,
    *,
    locale_default: str = "en",
    languages: Sequence[str] = LANGUAGES,
    threshold: int = DEFAULT_THRESHOLD,
    exports: bool = True,
) -> list[Path]:
    """Render one cohort's reports into ``out_dir/<cohort>/``; returns every file written.

    School and policy reports are in ``locale_default``; the student summary of all schools in
    every language of ``languages``, each school's in its graduates' languages and the default.
    """
    warehouse = Path(warehouse)
    catalog = discover(warehouse)
    folder = Path(out_dir) / str(cohort)
    if folder.exists():
        shutil.rmtree(folder)  # a cohort is rebuilt whole: no stale school or language left
    folder.mkdir(parents=True)
    schools = catalog.schools.get(cohort, ())
    pages: list[RenderedPage] = []
    default = translations(locale_default)
    with open_published(warehouse, threshold) as con:
        for school in schools:
            pages.append(
                render_page(
                    PAGES_DIR / "school.md",
                    con,
                    {"cohort": cohort, "school_code": school.code},
                    folder,
                    locale_default,
                    default,
                )
            )
        pages.append(
            render_page(PAGES_DIR / "policy.md", con, {"cohort": cohort}, folder, locale_default, default)
        )
        summaries: list[tuple[str, str]] = [("all", lang) for lang in languages]
        for school in schools:
            wanted = dict.fromkeys([*school.languages, locale_default])
            summaries += [(school.code, lang) for lang in wanted if lang in languages]
        for code, lang in summaries:
            pages.append(
                render_page(
                    PAGES_DIR / "student_summary.md",
                    con,
                    {"cohort": cohort, "school_code": code},
                    folder / lang,
                    lang,
                    translations(lang),
                )
            )
    downloads: list[tuple[str, Path]] = []
    if exports:
        for school in schools:
            for path in export_school(warehouse, folder / "exports", cohort, school.code, threshold):
                downloads.append((f"{school.name} ({school.code}) · {path.suffix[1:].upper()}", path))
    index = render_site(
        pages,
        folder,
        locale=locale_default,
        translations=default,
        title=default.gettext("Reports of cohort %(cohort)s") % {"cohort": cohort},
        downloads=downloads,
    )
    written = [index]
    for page in pages:
        written += [page.html_path, page.markdown_path]
    return _all_inside(out_dir, written + [path for _label, path in downloads])


def build_site(
    warehouse: Path,
    out_dir: Path,
    cohorts: list[int] | None = None,
    locale_default: str = "en",
    *,
    languages: Sequence[str] = LANGUAGES,
    threshold: int = DEFAULT_THRESHOLD,
) -> list[Path]:
    """Render every cohort (or those given) with :func:`build_cohort`, then ``out_dir/index.html``
    linking every page and export; returns every file written."""
    out = Path(out_dir)
    catalog = discover(Path(warehouse))
    chosen = [c for c in catalog.cohorts if cohorts is None or c in cohorts]
    written: list[Path] = []
    for cohort in chosen:
        written += build_cohort(
            warehouse, out, cohort, locale_default=locale_default, languages=languages, threshold=threshold
        )
    written.append(write_index(out, locale_default))
    return _all_inside(out, written)


def _all_inside(out_dir: str | Path, paths: list[Path]) -> list[Path]:
    """Fail the build when any written file resolves outside ``out_dir`` (file names are made from
    data values such as school codes; a bug there must not go unnoticed)."""
    for path in paths:
        inside(out_dir, path)
    return paths


def write_index(out_dir: Path, locale: str = "en") -> Path:
    """``index.html`` at the top: a section per cohort folder, linking its pages and exports."""
    out = Path(out_dir)
    tr = translations(locale)
    lines = []
    for folder in sorted((p for p in out.iterdir() if p.is_dir() and p.name.isdigit()), reverse=True):
        heading = tr.gettext("Cohort %(cohort)s") % {"cohort": folder.name}
        everything = tr.gettext("All reports of this cohort")
        lines.append(f"<h2>{heading}</h2>")
        lines.append(f'<p><a href="{folder.name}/index.html">{everything}</a></p>')
        items = []
        for html in sorted(folder.rglob("*.html")):
            if html.name == "index.html":
                continue
            rel = html.relative_to(out).as_posix()
            lang = html.parent.name if html.parent != folder else locale
            link = f'<a href="{rel}" hreflang="{lang}">{_title(html)}</a>'
            items.append(f"<li>{link} <small>{language_name(lang)}</small></li>")
        for data in sorted((folder / "exports").glob("*")) if (folder / "exports").is_dir() else []:
            items.append(f'<li><a href="{data.relative_to(out).as_posix()}">{data.name}</a></li>')
        lines.append('<ul class="pages">' + "".join(items) + "</ul>")
    index = render_site(
        [], out, locale=locale, translations=tr, title=tr.gettext("Graduate tracking reports")
    )
    html = index.read_text(encoding="utf-8")
    marker = "<p>" + tr.gettext("No reports yet.") + "</p>"
    index.write_text(html.replace(marker, "\n".join(lines) or marker), encoding="utf-8")
    return index


def _title(html: Path) -> str:
    """The page's <title> (already escaped in the file)."""
    text = html.read_text(encoding="utf-8")
    start, end = text.find("<title>"), text.find("</title>")
    return text[start + 7 : end] if start >= 0 and end > start else html.stem
