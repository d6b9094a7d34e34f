"""Report engine: pages render from a hand-made warehouse, safely and without external loads."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import duckdb
import pytest

from reports.engine import (
    PageError,
    PageRequest,
    open_warehouse,
    render_page,
    render_site,
    render_sql,
)
from reports.results import QueryResult

EXAMPLE = Path(__file__).resolve().parents[1] / "reports" / "pages" / "example_overview.md"

# cohort | wave | indicator | source | breakdown | breakdown_value | numerator | denominator |
# value | ci_low | ci_high | suppressed   (empty = NULL; 0.4242 is the suppressed school's value)
INDICATORS_TABLE = """
2019|m6|graduates|admin|total|all|199|199|199.0|||false
2019|m6|response_rate|survey|total|all|149|199|0.7487|0.684|0.8033|false
2019|m6|employed_share|survey|total|all|79|149|0.5302|0.4502|0.6087|false
2019|m6|eqavet5b_employment_rate|combined|total|all|120|199|0.6030|0.5338|0.6681|false
2018|m6|response_rate|survey|total|all|130|180|0.7222|0.6520|0.7831|false
2018|m6|employed_share|survey|total|all|60|130|0.4615|0.3786|0.5467|false
2019|m6|response_rate|survey|school|SCH01|70|90|0.7778|0.6810|0.8519|false
2019|m6|response_rate|survey|school|SCH02|76|106|0.7170|0.6245|0.7942|false
2019|m6|response_rate|survey|school|SCH03|2|3|0.4242|0.2077|0.9385|true
2019|m6|status_work|survey|school|SCH01|35|70|0.5|0.3854|0.6146|false
2019|m6|status_further_studies|survey|school|SCH01|25|70|0.3571|0.2549|0.4740|false
2019|m6|status_unemployed|survey|school|SCH01|10|70|0.1429|0.0795|0.2433|false
2019|m6|status_work|survey|school|SCH02|30|76|0.3947|0.2929|0.5068|false
2019|m6|status_work_and_study|survey|school|SCH02|20|76|0.2632|0.1768|0.3726|false
2019|m6|status_unemployed|survey|school|SCH02|26|76|0.3421|0.2454|0.4540|false
2019|m6|status_work|survey|school|SCH03|2|2|0.4242|||true
2019|m6|job_related_to_qualification|survey|total|all|60|80|0.75|0.6444|0.8320|false
2019|m6|part_time_share|survey|total|all|27|80|0.3375|0.2431|0.4464|false
2019|m6|permanent_contract_share|survey|total|all|9|80|0.1125|0.0602|0.2003|false
2019|m6|wage_below_1000_share|survey|total|all|51|80|0.6375|0.5281|0.7343|false
2019|m6|jobseeking_while_employed_share|survey|total|all|18|80|0.225|0.1470|0.3279|false
2019|m6|unpaid_extra_hours_share|survey|total|all|10|30|0.3333|0.1923|0.5122|false
"""
SUPPRESSED_VALUE = 0.4242

# cohort | wave | breakdown | breakdown_value | plan_after_graduation | current_status | graduates
TRANSITIONS_TABLE = """
2019|m6|total|all|work|work|30
2019|m6|total|all|work|unemployed|8
2019|m6|total|all|work|further_studies|2
2019|m6|total|all|further_studies|further_studies|40
2019|m6|total|all|further_studies|work|6
2019|m6|total|all|work_and_study|work_and_study|10
2019|m6|total|all|self_employed|work|3
"""


def rows(table: str) -> list[list[str | None]]:
    """Pipe-separated test rows; empty cells are NULL, DuckDB casts the rest to column types."""
    return [[c or None for c in line.split("|")] for line in table.strip().splitlines()]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny warehouse with only the two marts the example page reads."""
    path = tmp_path_factory.mktemp("wh") / "gradtrack.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        """
        create table marts.indicators (
            cohort integer, wave varchar, indicator varchar, source varchar,
            breakdown varchar, breakdown_value varchar, numerator bigint, denominator bigint,
            value double, ci_low double, ci_high double, suppressed boolean)
        """
    )
    con.executemany(f"insert into marts.indicators values ({', '.join(['?'] * 12)})", rows(INDICATORS_TABLE))
    con.execute(
        """
        create table marts.plan_status_transitions (
            cohort integer, wave varchar, breakdown varchar, breakdown_value varchar,
            plan_after_graduation varchar, current_status varchar, graduates bigint)
        """
    )
    con.executemany(
        "insert into marts.plan_status_transitions values (?, ?, ?, ?, ?, ?, ?)", rows(TRANSITIONS_TABLE)
    )
    con.close()
    return path


@pytest.fixture(scope="module")
def rendered(warehouse: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("site")
    page = render_page(EXAMPLE, warehouse, {"cohort": 2019}, out)
    return page, page.html_path.read_text(encoding="utf-8")


def big_values(html: str) -> dict[str, str]:
    pairs = re.findall(r'<div class="bv-title">(.*?)</div>\s*<div class="bv-number">(.*?)</div>', html)
    return dict(pairs)


def without_svg(html: str) -> str:
    return re.sub(r"<svg\b.*?</svg>", "", html, flags=re.S)


def write_page(tmp_path: Path, body: str, name: str = "page.md") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_example_page_has_inline_svg_charts(rendered) -> None:
    page, html = rendered
    assert html.count("<svg") == 4  # bar, stacked bar, line, flow
    assert 'role="img"' in html and "<title>" in html
    assert html.count('<details class="numbers">') == 4
    assert page.warnings == ()


def test_big_values_show_formatted_numbers(rendered) -> None:
    _page, html = rendered
    assert big_values(html) == {  # 199 graduates: counts are published rounded to 5
        "Graduates": "200",
        "Response rate": "74.9%",
        "Employed": "53.0%",
        "Employment rate (EQAVET 5b)": "60.3%",
    }
    assert "95 % CI 68.4%–80.3% · n = 149" not in html  # base is the denominator, 199
    assert "95 % CI 68.4%–80.3% · n = 200 · survey" in html  # the base rounded to 5


def test_big_values_follow_locale(warehouse: Path, tmp_path: Path) -> None:
    page = render_page(EXAMPLE, warehouse, {"cohort": "2019"}, tmp_path, locale="es")
    values = big_values(page.html_path.read_text(encoding="utf-8"))
    assert values["Response rate"] == "74,9\xa0%"
    assert values["Graduates"] == "200"


def test_suppressed_value_is_not_published(rendered) -> None:
    page, html = rendered
    markdown = page.markdown_path.read_text(encoding="utf-8")
    for text in (html, markdown):
        assert "42.4%" not in text and "42,4" not in text
        assert "20.8%" not in text and "93.9%" not in text  # its interval
    assert str(SUPPRESSED_VALUE) not in without_svg(html)
    assert "fewer than 20 graduates" in html  # SCH03's base is 3
    row = page.results["by_school"].one(school="SCH03")
    assert row["value"] is None and row["ci_low"] is None and row["suppressed"] is True


def test_flow_hides_small_cells(rendered) -> None:
    _page, html = rendered
    assert "Self-employed (n &lt; 20)" in html  # 3 graduates planned self-employment
    assert "(3)" not in html and "(2)" not in html and "(8)" not in html  # counts are rounded to 5
    assert "75.0% (30)" in html
    # shares are computed on unrounded counts (8 of 40, 6 of 46), counts shown rounded
    assert "20.0% (10)" in html and "13.0% (5)" in html and "5.0% (0)" in html


def test_small_base_gets_a_caution_mark(rendered) -> None:
    _page, html = rendered
    assert "33.3% ⚠" in html  # unpaid extra hours, base 30: shown, under the low-precision base 50


def test_markdown_is_written_beside_html(rendered) -> None:
    page, _html = rendered
    assert page.markdown_path.parent == page.html_path.parent
    assert page.markdown_path.stem == page.html_path.stem == "example_overview__cohort-2019__wave-m6"
    markdown = page.markdown_path.read_text(encoding="utf-8")
    assert "## Participation by school" in markdown
    assert "<!-- gradtrack-chart c1 sha256=" in markdown
    assert "<svg" not in markdown  # charts stay out of the diff-able Markdown


def test_no_external_resources(rendered) -> None:
    _page, html = rendered
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"<(link|img|iframe)\b", html)
    assert not re.search(r"<script\b[^>]*\bsrc=", html)
    assert "@media print" in html and "size: A4" in html


def test_index_links_pages(warehouse: Path, tmp_path: Path, rendered) -> None:
    page, _html = rendered
    index = render_site([page, PageRequest(EXAMPLE, {"cohort": 2018})], tmp_path, con=warehouse)
    text = index.read_text(encoding="utf-8")
    assert index.name == "index.html"
    assert "example_overview__cohort-2018__wave-m6.html" in text
    assert (tmp_path / "example_overview__cohort-2018__wave-m6.html").is_file()
    assert f">{page.title}</a>" in text
    assert "http" not in text


INJECTION_PAGE = """---
title: Injection
params: [school_code]
---
```sql quoted
select count(*) as n from marts.indicators where breakdown_value = '{{ params.school_code }}'
```
```sql bare
select count(*) as n from marts.indicators
where breakdown_value = {{ params.school_code }} or breakdown_value in ({{ [params.school_code] }})
```
Hits: {{ quoted.one().n }} / {{ bare.one().n }}
"""


@pytest.mark.parametrize(
    ("school", "hits"),
    [("SCH01", "4 / 4"), ("x' or 1=1 --", "0 / 0"), ("x'); drop table marts.indicators; --", "0 / 0")],
)
def test_params_are_bound_not_spliced(warehouse: Path, tmp_path: Path, school: str, hits: str) -> None:
    page = render_page(write_page(tmp_path, INJECTION_PAGE), warehouse, {"school_code": school}, tmp_path)
    assert f"Hits: {hits}" in page.markdown_path.read_text(encoding="utf-8")


def test_render_sql_binds_every_placeholder() -> None:
    sql, binds = render_sql(
        "select * from t where a = {{ params.a }} and b in ({{ params.b }}) and c = '{{ params.c }}'",
        {"a": "x' or 1=1 --", "b": [1, 2], "c": 3},
    )
    assert sql == "select * from t where a = $1 and b in ($2, $3) and c = $4"
    assert binds == ["x' or 1=1 --", 1, 2, "3"]


def test_placeholder_inside_string_literal_is_refused(warehouse: Path, tmp_path: Path) -> None:
    body = INJECTION_PAGE.replace("= '{{ params.school_code }}'", "like '%{{ params.school_code }}%'")
    with pytest.raises(PageError, match=r"page\.md, sql block 'quoted'.*inside a string literal"):
        render_page(write_page(tmp_path, body), warehouse, {"school_code": "x"}, tmp_path)


def test_connection_is_read_only(warehouse: Path, tmp_path: Path) -> None:
    body = "---\ntitle: Evil\n---\n```sql make\ncreate table marts.evil as select 1 as a\n```\nx\n"
    with pytest.raises(PageError, match=r"evil\.md, sql block 'make'.*read-only") as err:
        render_page(write_page(tmp_path, body, "evil.md"), warehouse, {}, tmp_path)
    assert err.value.block == "make"
    con = open_warehouse(warehouse)
    with pytest.raises(duckdb.Error, match="read-only"):
        con.execute("create table marts.evil as select 1 as a")
    with pytest.raises(duckdb.Error, match="disabled"):
        con.execute(f"copy marts.indicators to '{tmp_path / 'leak.csv'}'")
    con.close()
    writable = duckdb.connect(str(warehouse))
    with pytest.raises(ValueError, match="read-only connection"):
        render_page(EXAMPLE, writable, {"cohort": 2019}, tmp_path)
    writable.close()


def test_sql_error_names_page_and_block(warehouse: Path, tmp_path: Path) -> None:
    body = (
        "---\ntitle: Broken\n---\n```sql fine\nselect 1 as a\n```\n"
        "```sql broken\nselect nope from marts.indicators\n```\n"
    )
    with pytest.raises(PageError, match=r"broken\.md, sql block 'broken'.*nope"):
        render_page(write_page(tmp_path, body, "broken.md"), warehouse, {}, tmp_path)


def test_template_error_names_page_and_line(warehouse: Path, tmp_path: Path) -> None:
    body = "---\ntitle: T\n---\n```sql q\nselect 1 as a\n```\n\nText\n\n{{ qq.rows }}\n"
    with pytest.raises(PageError, match=r"typo\.md, line 10: .*'qq' is undefined"):
        render_page(write_page(tmp_path, body, "typo.md"), warehouse, {}, tmp_path)


def test_values_without_suppressed_column_are_refused(warehouse: Path, tmp_path: Path) -> None:
    body = "```sql raw\nselect value from marts.indicators\n```\n"
    with pytest.raises(PageError, match=r"sql block 'raw'.*suppressed"):
        render_page(write_page(tmp_path, body, "raw.md"), warehouse, {}, tmp_path)


def test_query_result_helpers() -> None:
    result = QueryResult(
        "q",
        ("indicator", "source", "value"),
        (
            {"indicator": "a", "source": "survey", "value": 0.1},
            {"indicator": "a", "source": "admin", "value": 0.2},
            {"indicator": "b", "source": "survey", "value": 0.3},
        ),
    )
    assert len(result.where(indicator="a")) == 2
    assert result.one(indicator="a", source="admin")["value"] == 0.2
    assert result.first(indicator="zzz") is None
    assert result.unique("source") == ["survey", "admin"]
    with pytest.raises(LookupError, match="found 2"):
        result.one(indicator="a")
    with pytest.raises(KeyError, match="no column"):
        result.where(wave="m6")


class Catalogue(gettext.NullTranslations):
    """A translations object as Babel's compiled catalogues provide, from a dict."""

    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__()
        self.messages = messages

    def gettext(self, message: str) -> str:
        return self.messages.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


def test_page_and_component_strings_are_translated(warehouse: Path, tmp_path: Path) -> None:
    catalogue = Catalogue(
        {
            "Graduate outcomes, cohort %(cohort)s": "Resultados de la promoción %(cohort)s",
            "Response rate": "Tasa de respuesta",
            "Response rate by school": "Tasa de respuesta por centro",
            "Employed": "Ocupados",
            "Numbers": "Cifras",
        }
    )
    page = render_page(EXAMPLE, warehouse, {"cohort": 2019}, tmp_path, "es", catalogue)
    html = page.html_path.read_text(encoding="utf-8")
    assert "<title>Resultados de la promoción 2019</title>" in html
    assert '<html lang="es">' in html
    assert "<figcaption>Tasa de respuesta por centro</figcaption>" in html
    assert "<summary>Cifras</summary>" in html
    values = big_values(html)
    assert values["Tasa de respuesta"] == "74,9\xa0%"
    assert values["Ocupados"] == "53,0\xa0%"  # catalogue label of employed_share
