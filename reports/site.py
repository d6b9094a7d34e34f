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

import logging
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from reports.disclosure import DEFAULT_POLICY, Policy, register_relation
from reports.engine import RenderedPage, open_published, render_page, render_site
from reports.exports import export_school, inside
from reports.i18n import LANGUAGES, translations

__all__ = ["PAGES_DIR", "Catalog", "RenderFailure", "SiteBuild", "build_cohort", "build_site", "discover"]

log = logging.getLogger("gradtrack.reports")

PAGES_DIR = Path(__file__).parent / "pages"


@dataclass(frozen=True)
class SchoolInfo:
    """A school of one cohort and the languages its graduates use."""

    code: str
    name: str
    languages: tuple[str, ...]


@dataclass(frozen=True)
class RenderFailure:
    """A page or export that could not be written; the rest of the site was."""

    page: str
    group: str
    error: str

    def __str__(self) -> str:
        return f"{self.page} ({self.group}): {self.error}"


@dataclass
class SiteBuild:
    """What a build wrote, and what it could not write (the site is written either way)."""

    written: list[Path] = field(default_factory=list)
    failures: list[RenderFailure] = field(default_factory=list)

    def extend(self, other: SiteBuild) -> None:
        self.written += other.written
        self.failures += other.failures


def _group(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in params.items())


def _attempt(build: SiteBuild, page: str, params: Mapping[str, Any], action: Callable[[], Any]) -> Any | None:
    """Run one page's or export's rendering; a failure is logged and collected, not raised, so
    that one page that cannot render on some data does not stop the other pages."""
    try:
        return action()
    except Exception as exc:  # any error of one page is that page's failure, not the site's
        failure = RenderFailure(page, _group(params), f"{type(exc).__name__}: {exc}")
        log.error("report not written: %s", failure)
        build.failures.append(failure)
        return None


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
    policy: Policy = DEFAULT_POLICY,
    exports: bool = True,
) -> SiteBuild:
    """Render one cohort's reports into ``out_dir/<cohort>/``; returns the files written and
    the pages that failed (each named with its group and error; the others are written).

    School and policy reports are in ``locale_default``; the student summary of all schools in
    every language of ``languages``, each school's in its graduates' languages and the default.
    Nothing in a page depends on the time or on other cohorts, so re-rendering unchanged data
    gives byte-identical files.
    """
    warehouse = Path(warehouse)
    catalog = discover(warehouse)
    folder = Path(out_dir) / str(cohort)
    if folder.exists():
        shutil.rmtree(folder)  # a cohort is rebuilt whole: no stale school or language left
    folder.mkdir(parents=True)
    schools = catalog.schools.get(cohort, ())
    build = SiteBuild()
    pages: list[RenderedPage] = []
    default = translations(locale_default)

    def render(name: str, con: duckdb.DuckDBPyConnection, params: dict, out: Path, lang: str) -> None:
        tr = default if lang == locale_default else translations(lang)
        page = _attempt(
            build,
            f"{name}.md",
            {**params, "language": lang},
            lambda: render_page(PAGES_DIR / f"{name}.md", con, params, out, lang, tr),
        )
        if page is not None:
            pages.append(page)

    with open_published(warehouse, policy) as con:
        for school in schools:
            render("school", con, {"cohort": cohort, "school_code": school.code}, folder, locale_default)
        render("policy", con, {"cohort": cohort}, folder, locale_default)
        summaries: list[tuple[str, str]] = [("all", lang) for lang in languages]
        for school in schools:
            wanted = dict.fromkeys([*school.languages, locale_default])
            summaries += [(school.code, lang) for lang in wanted if lang in languages]
        for code, lang in summaries:
            render("student_summary", con, {"cohort": cohort, "school_code": code}, folder / lang, lang)
    downloads: list[tuple[str, Path]] = []
    if exports:
        for school in schools:
            paths = _attempt(
                build,
                "export",
                {"cohort": cohort, "school_code": school.code},
                lambda school=school: export_school(
                    warehouse, folder / "exports", cohort, school.code, policy.threshold
                ),
            )
            for path in paths or ():
                downloads.append((f"{school.name} ({school.code}) · {path.suffix[1:].upper()}", path))
    index = render_site(
        pages,
        folder,
        locale=locale_default,
        translations=default,
        title=default.gettext("Reports of cohort %(cohort)s") % {"cohort": cohort},
        downloads=downloads,
    )
    build.written.append(index)
    for page in pages:
        build.written += [page.html_path, page.markdown_path]
    build.written += [path for _label, path in downloads]
    _all_inside(out_dir, build.written)
    return build


def build_site(
    warehouse: Path,
    out_dir: Path,
    cohorts: list[int] | None = None,
    locale_default: str = "en",
    *,
    languages: Sequence[str] = LANGUAGES,
    policy: Policy = DEFAULT_POLICY,
) -> SiteBuild:
    """Render every cohort (or those given) with :func:`build_cohort`, then ``out_dir/index.html``
    linking every page and export; returns every file written and every page that failed."""
    out = Path(out_dir)
    catalog = discover(Path(warehouse))
    chosen = [c for c in catalog.cohorts if cohorts is None or c in cohorts]
    build = SiteBuild()
    for cohort in chosen:
        build.extend(
            build_cohort(
                warehouse, out, cohort, locale_default=locale_default, languages=languages, policy=policy
            )
        )
    build.written.append(write_index(out, locale_default))
    _all_inside(out, build.written)
    return build


def _all_inside(out_dir: str | Path, paths: list[Path]) -> list[Path]:
    """Fail the build when any written file resolves outside ``out_dir`` (file names are made from
    data values such as school codes; a bug there must not go unnoticed)."""
    for path in paths:
        inside(out_dir, path)
    return paths


def write_index(out_dir: Path, locale: str = "en") -> Path:
    """``index.html`` at the top: per cohort folder, its index's table of schools by name (links
    made relative to the top) and its cross-school pages, so a reader finds their school at once."""
    out = Path(out_dir)
    tr = translations(locale)
    lines = []
    for folder in sorted((p for p in out.iterdir() if p.is_dir() and p.name.isdigit()), reverse=True):
        heading = tr.gettext("Cohort %(cohort)s") % {"cohort": folder.name}
        everything = tr.gettext("All reports of this cohort")
        lines.append(f"<h2>{heading}</h2>")
        lines.append(f'<p><a href="{folder.name}/index.html">{everything}</a></p>')
        cohort_index = folder / "index.html"
        if cohort_index.is_file():
            lines.append(_main_of(cohort_index, prefix=f"{folder.name}/"))
    index = render_site(
        [], out, locale=locale, translations=tr, title=tr.gettext("Graduate tracking reports")
    )
    html = index.read_text(encoding="utf-8")
    marker = "<p>" + tr.gettext("No reports yet.") + "</p>"
    index.write_text(html.replace(marker, "\n".join(lines) or marker), encoding="utf-8")
    return index


def _main_of(index: Path, prefix: str) -> str:
    """The body of a cohort index (written by :func:`render_site`, escaped there), headings one
    level down and relative links re-rooted at ``prefix``."""
    text = index.read_text(encoding="utf-8")
    body = text[text.find("<main>") + len("<main>") : text.find("</main>")]
    body = re.sub(r"<(/?)h2>", r"<\1h3>", body)
    return re.sub(r'href="(?![a-z]+:|/|#)', f'href="{prefix}', body)
