"""Report components: the calls a page makes to show numbers (``{{ big_value(...) }}`` etc.).

Every component returns ``markupsafe.Markup`` holding an HTML block that survives the
Markdown pass (no blank lines inside), and follows the same publication rules:

* a row with ``suppressed = true`` shows "–" (never a number, never a bar or point);
* a share shows its base (n) and, where there is room, its 95 % interval;
* a base below the page's ``small_base`` gets a caution mark (⚠);
* numbers are formatted with Babel in the page's locale;
* charts are Altair → Vega-Lite → SVG rendered offline by vl-convert, with alt text and
  their numbers in a table beside them.

Charts are not put into the Markdown itself: the component registers the SVG with the page
and leaves a marker comment (``<!-- gradtrack-chart c1 sha256=… -->``) that the engine replaces
after the Markdown → HTML step. The rendered ``.md`` stays short and diff-able.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

import altair as alt
import vl_convert as vlc
from babel import Locale
from babel.numbers import format_decimal, format_percent, get_decimal_symbol, get_group_symbol
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from reports.labels import (
    CODE_COLUMNS,
    CODE_LABELS,
    REGION_NAMES,
    REGISTER_INDICATORS,
    STATUS_ORDER,
    humanize,
    region_name,
)
from reports.labels import label as code_label
from reports.results import QueryResult, is_suppressed

SUPPRESSED_MARK = "–"
SMALL_BASE_MARK = "⚠"
#: Why a cell shows no number, or a number to read with care: its mark and the glyph shown.
#: ``small_base``: the base is under the disclosure threshold; ``secondary``: hidden so that
#: another hidden figure cannot be worked out; ``no_data``: nothing to show (no answers, no
#: records); ``low_precision``: shown, but the base is small and the figure imprecise.
MARK_GLYPHS: dict[str, str] = {
    "small_base": SUPPRESSED_MARK,
    "secondary": "×",
    "no_data": "..",
    "low_precision": SMALL_BASE_MARK,
}
#: The published ``suppression`` reasons of the current disclosure copy, as marks.
SUPPRESSION_MARKS = {"primary": "small_base", "secondary": "secondary", "empty": "no_data"}
#: Order of the legend lines on a page.
MARK_ORDER = ("small_base", "secondary", "no_data", "low_precision")
KINDS = ("auto", "percent", "integer", "decimal", "points")
BAR_COLOR = "#2b6a99"
CHART_WIDTH = 520
#: A sentence ended by a letter, percent sign, bracket or tag and glued to the next one:
#: "…with a job.67.5%", "trabajo.Un".
GLUED_SENTENCE_RE = re.compile(r"(?<=[^\W\d_]|[%)>»])([.!?])(?=[A-ZÀ-ÖØ-Þ0-9]|<span\b)")
#: Italian articles and prepositions before a number read with a vowel (otto, ottanta, undici,
#: uno): "il 81,8%" → "l'81,8%", "del 11%" → "dell'11%".
ITALIAN_ELISION_RE = re.compile(
    r"\b(il|Il|del|Del|al|Al|dal|Dal|nel|Nel|sul|Sul) (?=(?:<span\b[^>]*>)?(?:8|11(?!\d)|1(?![\d.])))"
)
ITALIAN_ELIDED = {"il": "l'", "Il": "L'"}
MARKER_RE = re.compile(r"<!-- gradtrack-chart (c\d+) sha256=[0-9a-f]+ -->")

#: Key columns of an indicator row, carried as provenance on printed numbers.
PROVENANCE_KEYS = ("cohort", "wave", "indicator", "source", "breakdown", "breakdown_value")
#: Columns shown as-is (no digit grouping): 2019 must not become "2,019".
PLAIN_NUMBER_COLUMNS = frozenset({"cohort", "eqf_level", "year"})


class ComponentError(ValueError):
    """A component was called with data it cannot show honestly (ambiguous rows, bad column)."""


@dataclass(frozen=True)
class PageSettings:
    """Per-page publication settings, from the front matter."""

    suppression_threshold: int = 5
    small_base: int = 30


@dataclass
class RenderState:
    """What components leave for the engine: chart SVGs, symbols used, warnings."""

    svgs: dict[str, str] = field(default_factory=dict)
    symbols: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)

    def add_svg(self, svg: str) -> str:
        """Store an SVG and return the marker comment the engine will replace with it."""
        chart_id = f"c{len(self.svgs) + 1}"
        self.svgs[chart_id] = svg
        digest = hashlib.sha256(svg.encode()).hexdigest()[:12]
        return f"<!-- gradtrack-chart {chart_id} sha256={digest} -->"


# --------------------------------------------------------------------------- number formats


def _half_up(value: float | Decimal, places: int) -> Decimal:
    """Round half away from zero, as published tables do (9/80 = 11.25 % → 11.3 %).

    Babel alone rounds half to even (11.2 %); the value is read through its shortest
    decimal representation so 0.1125 counts as exactly 0.1125.
    """
    number = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


class NumberFormatter:
    """Locale-aware number formats (Babel) shared by all components of a page."""

    def __init__(self, locale: str, gettext: Callable[[str], str]) -> None:
        self.locale = Locale.parse(locale.replace("-", "_"))
        self._ = gettext
        pattern = self.locale.percent_formats[None].pattern
        # One decimal in the locale's own percent pattern: "#,##0 %" → "#,##0.0 %".
        self._percent_pattern = ";".join(
            re.sub(r"0(?=[^0]*$)", "0.0", part, count=1) for part in pattern.split(";")
        )

    def percent(self, value: float) -> str:
        """A share 0-1 as a percentage with one decimal: 0.748 → "74.8%" (en), "74,8 %" (es)."""
        rounded = _half_up(value, 3)
        return format_percent(rounded, format=self._percent_pattern, locale=self.locale)

    def integer(self, value: float) -> str:
        """A count with digit grouping: 12345 → "12,345"."""
        return format_decimal(_half_up(value, 0), format="#,##0", locale=self.locale)

    def decimal(self, value: float) -> str:
        """A median or other number, at most one decimal."""
        return format_decimal(_half_up(value, 1), format="#,##0.#", locale=self.locale)

    def points(self, value: float) -> str:
        """A difference of shares in percentage points, signed: 0.052 → "+5.2 pp"."""
        points = _half_up(value * 100, 1)
        text = format_decimal(points, format="+#,##0.0;-#,##0.0", locale=self.locale)
        return self._("%(value)s pp") % {"value": text}

    def format(self, value: Any, kind: str) -> str:
        """Format by kind; None or NaN gives "n/a" (not available, which is not suppression)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return self._("n/a")
        number = float(value) if isinstance(value, Decimal) else value
        if kind == "percent":
            return self.percent(number)
        if kind == "integer":
            return self.integer(number)
        if kind == "points":
            return self.points(number)
        return self.decimal(number)

    def d3_locale(self) -> dict[str, Any]:
        """The same conventions for Vega axis labels (d3-format locale object)."""
        suffix = self.locale.percent_formats[None].suffix[0].replace("%", "")
        return {
            "decimal": get_decimal_symbol(self.locale),
            "thousands": get_group_symbol(self.locale),
            "grouping": [3],
            "currency": ["", ""],
            "percent": suffix + "%",
        }


def infer_kind(row: Mapping[str, Any], value_column: str = "value") -> str:
    """How to show a value when the page does not say: counts, medians, differences or shares."""
    indicator = str(row.get("indicator") or "")
    if indicator == "graduates" or indicator.endswith("_count"):
        return "integer"
    if "median" in indicator:
        return "decimal"
    if "gap" in indicator or indicator.endswith("_difference"):
        return "points"
    if value_column in ("numerator", "denominator", "graduates"):
        return "integer"
    if indicator:
        return "percent"  # every other catalogue indicator is a share 0-1
    value = row.get(value_column)
    if isinstance(value, int) and not isinstance(value, bool):
        return "integer"
    if isinstance(value, float | Decimal) and 0 <= value <= 1:
        return "percent"
    return "decimal"


def uncap(text: Any) -> str:
    """First letter in lower case, for a label inside a sentence; acronyms ("VET") are kept."""
    words = str(text)
    if len(words) > 1 and words[1].isupper():
        return words
    return words[:1].lower() + words[1:]


def row_mark(row: Mapping[str, Any]) -> str | None:
    """The mark of a published row: its ``mark`` column, else read from ``suppression``."""
    mark = row.get("mark")
    if mark in MARK_GLYPHS:
        return str(mark)
    if is_suppressed(row):
        return SUPPRESSION_MARKS.get(str(row.get("suppression") or "primary"), "small_base")
    return None


@dataclass(frozen=True)
class Cell:
    """One value ready for display: its text, base and interval, or the reason it has none."""

    value: float | None
    text: str
    n: int | None
    ci: str | None
    suppressed: bool
    small: bool
    kind: str
    mark: str | None = None
    low: str | None = None
    high: str | None = None

    @property
    def marked(self) -> str:
        """The text with the caution mark when the figure is imprecise (small base)."""
        return f"{self.text} {SMALL_BASE_MARK}" if self.small else self.text


# --------------------------------------------------------------------------- vl-convert


@lru_cache(maxsize=256)
def _vegalite_to_svg(spec_json: str, locale_json: str) -> str:
    """Offline conversion; cached because school reports repeat identical charts."""
    return vlc.vegalite_to_svg(
        json.loads(spec_json),
        allowed_base_urls=[],  # no data or image may be fetched, ever
        format_locale=json.loads(locale_json),
    )


def chart_svg(chart: alt.TopLevelMixin, alt_text: str, d3_locale: Mapping[str, Any]) -> str:
    """SVG markup for inline HTML: accessible name, no namespace URLs, scales to the column."""
    spec = chart.to_dict(validate=False)  # the components build valid specs; validation is slow
    svg = _vegalite_to_svg(
        json.dumps(spec, sort_keys=True, default=str), json.dumps(d3_locale, sort_keys=True)
    )
    head = re.match(r"<svg\b([^>]*)>", svg)
    if head is None:  # pragma: no cover - vl-convert always returns an <svg> root
        raise RuntimeError("vl-convert did not return SVG")
    # Inline SVG in HTML needs no xmlns; dropping it keeps the page free of any URL text.
    attrs = re.sub(r'\s+xmlns(?::\w+)?="[^"]*"', "", head.group(1))
    label = escape(alt_text)
    svg = (
        f'<svg{attrs} role="img" aria-label="{label}" '
        f'style="max-width:100%;height:auto"><title>{label}</title>{svg[head.end() :]}'
    )
    if re.search(r"https?://|<image\b|<script\b", svg):
        raise RuntimeError("chart SVG refers to an external resource")
    return "".join(line for line in svg.splitlines() if line.strip())


def _block(*parts: str) -> Markup:
    """Join HTML lines without blank lines, so Markdown keeps the block as raw HTML."""
    text = "\n".join(p for p in parts if p)
    return Markup("\n".join(line for line in text.splitlines() if line.strip()))


def _as_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _as_int(value: Any) -> int | None:
    number = _as_float(value)
    return None if number is None else round(number)


# --------------------------------------------------------------------------- components


class Components:
    """The component functions of one page render, bound to its locale, texts and settings."""

    def __init__(
        self,
        *,
        locale: str,
        gettext: Callable[[str], str],
        settings: PageSettings,
        state: RenderState,
        page_labels: Mapping[str, str] | None = None,
    ) -> None:
        self._ = gettext
        self.page_labels = {str(k): str(v) for k, v in (page_labels or {}).items()}
        self.settings = settings
        self.state = state
        self.numbers = NumberFormatter(locale, gettext)
        self._md = MarkdownIt("commonmark", {"html": True}).enable("table")

    def globals(self) -> dict[str, Callable[..., Any]]:
        """The names pages can call."""
        return {
            "big_value": self.big_value,
            "bar_chart": self.bar_chart,
            "stacked_bar_chart": self.stacked_bar_chart,
            "line_chart": self.line_chart,
            "data_table": self.data_table,
            "compare_table": self.compare_table,
            "flow": self.flow,
            "caution": self.caution,
            "fmt": self.fmt,
            "label": self.label,
        }

    def filters(self) -> dict[str, Callable[..., Any]]:
        """Formatting filters for numbers written by hand: ``{{ x | percent }}``."""
        return {
            "percent": lambda v: self.numbers.format(v, "percent"),
            "integer": lambda v: self.numbers.format(v, "integer"),
            "decimal": lambda v: self.numbers.format(v, "decimal"),
            "points": lambda v: self.numbers.format(v, "points"),
            "label": self.label,
            "typeset": self.typeset,
            "region_name": region_name,
            "uncap": uncap,
        }

    def typeset(self, text: Any) -> Markup:
        """A paragraph of running text made of translated sentences, tidied for its language.

        Sentences assembled from conditional parts are joined by one space (never glued:
        "trabajo.Un"), and Italian articles elide before numbers read with a vowel ("l'81,8%").
        Wrap paragraphs in ``{% filter typeset %}…{% endfilter %}``.
        """
        html = re.sub(r"\s+", " ", str(text if isinstance(text, Markup) else escape(text))).strip()
        html = GLUED_SENTENCE_RE.sub(r"\1 ", html)
        if self.numbers.locale.language == "it":
            html = ITALIAN_ELISION_RE.sub(lambda m: ITALIAN_ELIDED.get(m.group(1), m.group(1) + "l'"), html)
        return Markup(html)

    # ----------------------------------------------------------------- helpers

    def label(self, code: Any, labels: Mapping[str, str] | None = None) -> str:
        """Human label of a code (indicator, wave, source, status...), translated.

        Looks in ``labels``, then the page's front-matter ``labels``, then the catalogue.
        """
        return code_label(code, self._, self._labels(labels))

    def _labels(self, labels: Mapping[str, str] | None) -> dict[str, str]:
        return {**self.page_labels, **{str(k): str(v) for k, v in (labels or {}).items()}}

    def value_label(self, column: str, value: Any, labels: Mapping[str, str] | None = None) -> str:
        """Codes get labels; other values (school codes, years) stay as they are unless labelled."""
        if value is None:
            return ""
        all_schools = column in ("school_code", "breakdown_value") and str(value) == "all"
        if all_schools and str(value) not in self._labels(labels):
            return self._("All schools")
        if column in CODE_COLUMNS or str(value) in self._labels(labels):
            return self.label(value, labels)
        if column in ("region", "country", "breakdown_value") and str(value) in REGION_NAMES:
            return REGION_NAMES[str(value)]
        if column == "breakdown_value" and str(value) in CODE_LABELS:  # sexes, sectors, "unknown"
            return self.label(value, labels)
        return str(value)

    def source_label(self, row: Mapping[str, Any]) -> str:
        """Where a figure comes from: register-based indicators (graduates, share of women) say
        so, whatever ``source`` their row is stored under."""
        if row.get("indicator") in REGISTER_INDICATORS:
            return self.label("register")
        return self.label(row.get("source"))

    def header(self, column: str, headers: Mapping[str, str] | None = None) -> str:
        """Heading for a column (or parameter) name: known names translated, others humanized."""
        if headers and column in headers:
            return str(headers[column])
        known = {
            "value": self._("Value"),
            "ci": self._("95 % CI"),
            "denominator": self._("n"),
            "numerator": self._("Count"),
            "breakdown_value": self._("Group"),
            "indicator": self._("Indicator"),
            "source": self._("Source"),
            "wave": self._("Wave"),
            "cohort": self._("Cohort"),
            "school_code": self._("School code"),
            "plan_after_graduation": self._("Plan before graduation"),
            "current_status": self._("Status after graduation"),
            "graduates": self._("Graduates"),
        }
        if column in known:
            return known[column]
        return self.label(column) if column in self.page_labels or column in CODE_LABELS else humanize(column)

    def _require(self, data: Any, component: str, *columns: str) -> QueryResult:
        if not isinstance(data, QueryResult):
            raise ComponentError(
                f"{component}: the first argument must be a query result (the name of a sql "
                f"block), got {type(data).__name__}"
            )
        missing = [c for c in columns if c not in data.columns]
        if missing:
            raise ComponentError(
                f"{component}: query '{data.name}' has no column "
                f"{', '.join(map(repr, missing))}; columns: {', '.join(data.columns)}"
            )
        return data

    def cell(self, row: Mapping[str, Any], value: str = "value", fmt: str = "auto") -> Cell:
        """Display form of one row's value, honouring its mark (hidden, no data, imprecise)."""
        if fmt not in KINDS:
            raise ComponentError(f"fmt must be one of {', '.join(KINDS)}, got {fmt!r}")
        kind = infer_kind(row, value) if fmt == "auto" else fmt
        n = self.base(row)
        mark = row_mark(row)
        if is_suppressed(row) or mark in ("small_base", "secondary", "no_data"):
            mark = mark if mark in ("small_base", "secondary", "no_data") else "small_base"
            self.state.symbols.add(mark)
            return Cell(None, MARK_GLYPHS[mark], None, None, True, False, kind, mark)
        number = _as_float(row.get(value))
        if number is None and value == "value":  # a published row without a value: no data
            self.state.symbols.add("no_data")
            return Cell(None, MARK_GLYPHS["no_data"], None, None, True, False, kind, "no_data")
        text = self.numbers.format(number, kind)
        ci = low_text = high_text = None
        low, high = _as_float(row.get("ci_low")), _as_float(row.get("ci_high"))
        if number is not None and low is not None and high is not None:
            low_text, high_text = self.numbers.format(low, kind), self.numbers.format(high, kind)
            ci = f"{low_text}–{high_text}"
        if "mark" in row:  # the published file decides what is imprecise
            small = kind != "integer" and mark == "low_precision"
        else:
            small = kind != "integer" and n is not None and n < self.settings.small_base
        if small:
            self.state.symbols.add("low_precision")
        return Cell(
            number, text, n, ci, False, small, kind, "low_precision" if small else None, low_text, high_text
        )

    def interval(self, cell: Cell, style: bool | str = True) -> str:
        """The 95 % interval of a cell: "95 % CI a–b", or in plain words (``style='plain'``)."""
        if not cell.ci or not style:
            return ""
        if style == "plain":
            return self._("likely between %(low)s and %(high)s") % {"low": cell.low, "high": cell.high}
        return f"{self._('95 % CI')} {cell.ci}"

    def interval_header(self, style: bool | str = True) -> str:
        """Heading of an interval column."""
        return self._("Likely range") if style == "plain" else self._("95 % CI")

    @staticmethod
    def base(row: Mapping[str, Any]) -> int | None:
        """The base n shown beside a share: the people counted, not a sum of weights.

        Reweighted rows carry the sum of their weights in ``denominator``; the published file
        gives the people in ``base`` (a page may also select ``respondents``): a reader must see
        how many people answered.
        """
        for column in ("base", "base_n", "respondents"):
            if column in row:
                return _as_int(row.get(column))
        return _as_int(row.get("denominator"))

    def _n_text(self, cell: Cell) -> str:
        if cell.suppressed:
            if cell.mark == "small_base":
                return f"< {self.settings.suppression_threshold}"
            return ""
        return "" if cell.n is None else self.numbers.integer(cell.n)

    def legend(self, mark: str) -> str:
        """The legend line of one mark, in the page's language."""
        texts = {
            "small_base": self._("%(mark)s not shown: fewer than %(n)s graduates in the base."),
            "secondary": self._("%(mark)s hidden so that another hidden figure cannot be worked out."),
            "no_data": self._("%(mark)s no data (nobody in the base, or no records for this group)."),
            "low_precision": self._(
                "%(mark)s low precision (few people in the base, wide margin): read with caution."
            ),
        }
        n = self.settings.small_base if mark == "low_precision" else self.settings.suppression_threshold
        return texts[mark] % {"mark": MARK_GLYPHS[mark], "n": n}

    def _notes(self, *cells_or_marks: Any) -> str:
        """The legend of the marks used by ``cells`` (Cells, or mark names)."""
        used: set[str] = set()
        for item in cells_or_marks:
            if isinstance(item, Cell):
                if item.mark:
                    used.add(item.mark)
            elif isinstance(item, str):
                used.add(item)
            elif isinstance(item, set | frozenset | list | tuple):
                used |= {m.mark if isinstance(m, Cell) else m for m in item if m}
        parts = [self.legend(m) for m in MARK_ORDER if m in used]
        return f'<p class="note">{escape(" ".join(parts))}</p>' if parts else ""

    def _table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        numeric: set[int],
        attrs: Mapping[tuple[int, int], str] | None = None,
    ) -> str:
        """An HTML table; ``attrs[(row, col)]`` adds attributes (provenance) to a cell."""
        attrs = attrs or {}
        head = "".join(
            f'<th scope="col"{" class=num" if i in numeric else ""}>{escape(h)}</th>'
            for i, h in enumerate(headers)
        )
        lines = ["<table>", f"<thead><tr>{head}</tr></thead>", "<tbody>"]
        for r, row in enumerate(rows):
            cells = "".join(
                f'<td class="num"{attrs.get((r, i), "")}>{escape(v)}</td>'
                if i in numeric
                else f"<td{attrs.get((r, i), '')}>{escape(v)}</td>"
                for i, v in enumerate(row)
            )
            lines.append(f"<tr>{cells}</tr>")
        lines += ["</tbody>", "</table>"]
        return "\n".join(lines)

    @staticmethod
    def provenance(row: Mapping[str, Any]) -> str:
        """``data-gt`` attribute naming the indicator row a printed number comes from.

        Only key columns (never a measure), so tests can check every number against its row
        of ``marts.indicators`` and nothing hidden is carried along.
        """
        key = {k: row[k] for k in PROVENANCE_KEYS if k in row and row[k] is not None}
        if "indicator" not in key:
            return ""
        return f' data-gt="{escape(json.dumps(key, sort_keys=True, default=str))}"'

    def _figure(
        self,
        *,
        chart: alt.TopLevelMixin,
        title: str | None,
        alt_text: str,
        table: str,
        notes: str,
    ) -> Markup:
        configured = chart.configure(
            aria=False, font="sans-serif", view=alt.ViewConfig(stroke=None)
        ).configure_axis(labelFontSize=11, titleFontSize=11, labelColor="#222", titleColor="#222")
        svg = chart_svg(configured, alt_text, self.numbers.d3_locale())
        numbers_label = self._("Numbers")
        marker = self.state.add_svg(svg)
        caption = f"<figcaption>{escape(title)}</figcaption>" if title else ""
        return _block(
            '<figure class="chart">',
            caption,
            marker,
            notes,
            '<details class="numbers">',
            f"<summary>{escape(numbers_label)}</summary>",
            table,
            "</details>",
            "</figure>",
        )

    def _alt(self, kind: str, title: str | None, items: Sequence[tuple[str, str]]) -> str:
        """Alt text: what the chart is and, when short enough, every value it shows."""
        head = f"{kind}: {title}" if title else kind
        if not items or len(items) > 12:
            return head + ". " + self._("The numbers are in the table below the chart.")
        return f"{head}. " + "; ".join(f"{k}: {self._spoken(v)}" for k, v in items) + "."

    def _spoken(self, text: str) -> str:
        """Marks read aloud: "–" is "not shown", "⚠" is "low precision"."""
        spoken = {
            "small_base": self._("not shown"),
            "secondary": self._("hidden"),
            "no_data": self._("no data"),
        }
        stripped = text.strip()
        for mark, words in spoken.items():
            if stripped == MARK_GLYPHS[mark]:
                return words
        return text.replace(SMALL_BASE_MARK, "(" + self._("low precision") + ")")

    def _axis(self, kind: str) -> tuple[str, alt.Scale | Any]:
        """Axis label format and scale for a kind: shares run 0-100 %."""
        if kind == "percent":
            return ".0%", alt.Scale(domain=[0, 1])
        if kind == "integer":
            return ",d", alt.Undefined
        return ",~r", alt.Undefined

    @staticmethod
    def _kind_of(cells: Sequence[Cell]) -> str:
        kinds = {c.kind for c in cells if not c.suppressed}
        return kinds.pop() if len(kinds) == 1 else ("percent" if not kinds else "decimal")

    # ----------------------------------------------------------------- inline

    def fmt(self, value: Any, kind: str = "auto", *, ci: bool | str = False, n: bool = False) -> Markup:
        """Format a row (``fmt(r, ci=true, n=true)``) or a bare number for running text.

        A suppressed row gives "–"; a small base adds ⚠. Used in hand-written tables and
        sentences, e.g. ``{{ fmt(rates.one(indicator='response_rate')) }}``.
        """
        if isinstance(value, Mapping):
            cell = self.cell(value, "value", kind)
            parts = [cell.marked]
            extra = []
            if ci and cell.ci:
                extra.append(self.interval(cell, ci))
            if n and (cell.n is not None or cell.suppressed):
                extra.append(f"n = {self._n_text(cell)}")
            if extra:
                parts.append(f"({'; '.join(extra)})")
            prov = self.provenance(value)
            text = escape(" ".join(parts))
            return Markup(f'<span class="num"{prov}>{text}</span>' if prov else text)
        if kind == "auto":
            kind = infer_kind({"value": value})
        return Markup(escape(self.numbers.format(value, kind)))

    def big_value(
        self,
        data: QueryResult,
        indicator: str | None = None,
        *,
        title: str | None = None,
        fmt: str = "auto",
        value: str = "value",
        show_ci: bool | str = True,
        **filters: Any,
    ) -> Markup:
        """One headline number with its title, base, interval and source.

        ``indicator`` and any other keyword (``source='survey'``, ``wave='m6'``) select exactly
        one row; a result with a single row needs no filter. A missing row shows "n/a" and a
        warning; several matching rows are an error (say which source or wave you mean).
        """
        data = self._require(data, "big_value", value)
        criteria = dict(filters)
        if indicator is not None:
            criteria["indicator"] = indicator
        found = data.where(**criteria).rows if criteria else data.rows
        if len(found) > 1:
            raise ComponentError(
                f"big_value: {len(found)} rows of '{data.name}' match "
                f"{criteria or 'no filter'}; add a filter such as source=... or wave=..."
            )
        heading = title if title is not None else (self.label(indicator) if indicator else "")
        if not found:
            self.state.warnings.append(f"big_value: no row of '{data.name}' matches {criteria}")
            number, meta = self._("n/a"), [self._("no data")]
        else:
            row = found[0]
            cell = self.cell(row, value, fmt)
            number = cell.marked
            meta = []
            if cell.suppressed:
                meta.append(self.legend(cell.mark or "small_base").removeprefix(cell.text).strip())
            else:
                if show_ci and cell.ci:
                    meta.append(self.interval(cell, show_ci))
                if cell.n is not None and cell.kind != "integer":
                    meta.append(f"n = {self._n_text(cell)}")
                if cell.small:
                    meta.append(self._("low precision: read with caution"))
            if row.get("source") and cell.kind != "integer":  # a count has no survey/admin side
                meta.append(self.source_label(row))
        prov = self.provenance(found[0]) if found else ""
        return _block(
            f'<div class="big-value"{prov}>',
            f'<div class="bv-title">{escape(heading)}</div>',
            f'<div class="bv-number">{escape(number)}</div>',
            f'<div class="bv-meta">{escape(" · ".join(meta))}</div>',
            "</div>",
        )

    def bar_chart(
        self,
        data: QueryResult,
        x: str,
        y: str = "value",
        *,
        title: str | None = None,
        fmt: str = "auto",
        horizontal: bool | None = None,
        sort: str = "data",
        show_ci: bool | str = True,
        labels: Mapping[str, str] | None = None,
        alt_text: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Markup:
        """One bar per row: ``x`` names the category column, ``y`` the value column.

        Bars carry their value and base; the 95 % interval is drawn as a line. Suppressed rows
        keep their category with "–" and no bar. ``sort='value'`` orders by value, largest
        first; ``horizontal`` defaults to bars lying down when labels are long or many.
        """
        data = self._require(data, "bar_chart", x, y)
        cats = [self.value_label(x, r.get(x), labels) for r in data.rows]
        if len(set(cats)) != len(cats):
            raise ComponentError(
                f"bar_chart: query '{data.name}' has several rows per {x!r}; filter it to one "
                "row per category, or use stacked_bar_chart"
            )
        cells = [self.cell(r, y, fmt) for r in data.rows]
        kind = self._kind_of(cells)
        if horizontal is None:
            horizontal = len(cats) > 6 or any(len(c) > 10 for c in cats)
        records = []
        for cat, c in zip(cats, cells, strict=True):
            text = c.marked
            if c.n is not None and c.kind == "percent":
                text = f"{text} (n = {self._n_text(c)})" if horizontal else f"{text}\nn = {self._n_text(c)}"
            record: dict[str, Any] = {"cat": cat, "val": c.value, "text": text}
            record["pos"] = c.value if c.value is not None else 0
            records.append(record)
        self._add_ci(records, data, cells, show_ci)
        order = cats
        if sort == "value":
            order = [r["cat"] for r in sorted(records, key=lambda r: -(r["val"] or -math.inf))]
        axis_format, scale = self._axis(kind)
        base = alt.Chart(alt.Data(values=records))
        cat_title = self.header(x, headers)
        if horizontal:
            cat_enc = alt.Y("cat:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
            val = alt.X("val:Q", title=None, axis=alt.Axis(format=axis_format), scale=scale)
            layers = [base.mark_bar(color=BAR_COLOR).encode(y=cat_enc, x=val)]
            if any("lo" in r for r in records):
                layers.append(base.mark_rule(color="#222").encode(y=cat_enc, x=alt.X("lo:Q"), x2="hi:Q"))
            layers.append(
                base.mark_text(align="left", baseline="middle", dx=5, fontSize=11).encode(
                    y=cat_enc, x=alt.X("pos:Q"), text="text:N"
                )
            )
            size = {"width": CHART_WIDTH, "height": alt.Step(26)}
        else:
            cat_enc = alt.X("cat:N", sort=order, title=cat_title, axis=alt.Axis(labelAngle=0))
            val = alt.Y("val:Q", title=None, axis=alt.Axis(format=axis_format), scale=scale)
            layers = [base.mark_bar(color=BAR_COLOR).encode(x=cat_enc, y=val)]
            if any("lo" in r for r in records):
                layers.append(base.mark_rule(color="#222").encode(x=cat_enc, y=alt.Y("lo:Q"), y2="hi:Q"))
            layers.append(
                # Two-line labels grow downwards from their anchor: lift them by one line.
                base.transform_filter("datum.val != null")
                .mark_text(baseline="bottom", dy=-22, fontSize=11, lineBreak="\n")
                .encode(x=cat_enc, y=alt.Y("pos:Q"), text="text:N")
            )
            layers.append(  # "–" of suppressed rows, on the axis
                base.transform_filter("datum.val == null")
                .mark_text(baseline="bottom", dy=-4, fontSize=11)
                .encode(x=cat_enc, y=alt.Y("pos:Q"), text="text:N")
            )
            size = {"width": CHART_WIDTH, "height": 220}
        chart = alt.layer(*layers).properties(**size)
        prov = {(i, 1): self.provenance(r) for i, r in enumerate(data.rows) if y == "value"}
        if kind == "integer":  # counts have no interval and are their own base
            rows = [[cat, c.marked] for cat, c in zip(cats, cells, strict=True)]
            table = self._table([cat_title, self.header(y, headers)], rows, {1}, prov)
        else:
            rows = [
                [cat, c.marked, self._range(c, show_ci), self._n_text(c)]
                for cat, c in zip(cats, cells, strict=True)
            ]
            heads = [cat_title, self.header(y, headers), self.interval_header(show_ci), "n"]
            table = self._table(heads, rows, {1, 2, 3}, prov)
        return self._figure(
            chart=chart,
            title=title,
            alt_text=alt_text or self._alt(self._("Bar chart"), title, [(r[0], r[1]) for r in rows]),
            table=table,
            notes=self._notes(list(cells)),
        )

    def _range(self, cell: Cell, style: bool | str) -> str:
        """An interval for a table column: "a–b", or "a to b" in plain words."""
        if not cell.ci:
            return ""
        if style == "plain":
            return self._("%(low)s to %(high)s") % {"low": cell.low, "high": cell.high}
        return cell.ci

    def _add_ci(
        self,
        records: list[dict[str, Any]],
        data: QueryResult,
        cells: Sequence[Cell],
        show_ci: bool | str,
    ) -> None:
        """Add interval ends (and push labels past them) where the rows have an interval."""
        if not show_ci or "ci_low" not in data.columns or "ci_high" not in data.columns:
            return
        for record, row, c in zip(records, data.rows, cells, strict=True):
            low, high = _as_float(row.get("ci_low")), _as_float(row.get("ci_high"))
            if c.suppressed or c.value is None or low is None or high is None:
                continue
            record["lo"], record["hi"] = low, high
            if "pos" in record:
                record["pos"] = max(record["pos"], high)

    def stacked_bar_chart(
        self,
        data: QueryResult,
        x: str,
        y: str = "value",
        color: str = "indicator",
        *,
        title: str | None = None,
        fmt: str = "auto",
        normalize: bool = False,
        horizontal: bool = True,
        labels: Mapping[str, str] | None = None,
        alt_text: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Markup:
        """Bars split into segments: ``x`` the category, ``color`` the segment, ``y`` its size.

        Typical use: the status shares (``status_*`` indicators) per school. When the segments
        of a category share one base, the category label shows it (n). Suppressed segments are
        left out of the bar and shown as "–" in the table; ``normalize=true`` stretches each
        bar to 100 %.
        """
        data = self._require(data, "stacked_bar_chart", x, y, color)
        cats = list(dict.fromkeys(self.value_label(x, r.get(x), labels) for r in data.rows))
        series = list(dict.fromkeys(self.value_label(color, r.get(color), labels) for r in data.rows))
        cells: dict[tuple[str, str], Cell] = {}
        for r in data.rows:
            key = (self.value_label(x, r.get(x), labels), self.value_label(color, r.get(color), labels))
            if key in cells:
                raise ComponentError(
                    f"stacked_bar_chart: query '{data.name}' has several rows for {key}; filter it"
                )
            cells[key] = self.cell(r, y, fmt)
        kind = self._kind_of(list(cells.values()))
        cat_labels = {}
        for cat in cats:
            in_cat = [c for (k, _s), c in cells.items() if k == cat]
            bases = {c.n for c in in_cat if not c.suppressed}
            if all(c.suppressed for c in in_cat):
                cat_labels[cat] = f"{cat} (n < {self.settings.suppression_threshold})"
            elif len(bases) == 1 and None not in bases and kind == "percent":
                cat_labels[cat] = f"{cat} (n = {self.numbers.integer(bases.pop())})"
            else:
                cat_labels[cat] = cat
        records = [
            {
                "cat": cat_labels[k],
                "series": s,
                "order": series.index(s),
                "val": c.value,
                "text": c.marked,
            }
            for (k, s), c in cells.items()
            if c.value is not None
        ]
        empty = [
            {"cat": cat_labels[cat], "text": SUPPRESSED_MARK}
            for cat in cats
            if all(c.value is None for (k, _s), c in cells.items() if k == cat)
        ]
        axis_format, scale = self._axis(kind)
        stack: Any = "normalize" if normalize else "zero"
        if normalize:
            axis_format, scale = ".0%", alt.Undefined
        cat_order = [cat_labels[c] for c in cats]
        value_scale = scale if kind == "percent" and not normalize else alt.Undefined
        col = alt.Color(
            "series:N",
            sort=series,
            title=None,
            legend=alt.Legend(orient="bottom", columns=3, labelLimit=200),
            scale=alt.Scale(scheme="tableau10"),
        )
        base = alt.Chart(alt.Data(values=records))
        if horizontal:
            enc = {
                "y": alt.Y("cat:N", sort=cat_order, title=None, axis=alt.Axis(labelLimit=320)),
                "x": alt.X(
                    "val:Q",
                    stack=stack,
                    title=None,
                    axis=alt.Axis(format=axis_format),
                    scale=value_scale,
                ),
            }
            size = {"width": CHART_WIDTH, "height": alt.Step(28)}
        else:
            enc = {
                "x": alt.X("cat:N", sort=cat_order, title=None, axis=alt.Axis(labelAngle=0)),
                "y": alt.Y(
                    "val:Q",
                    stack=stack,
                    title=None,
                    axis=alt.Axis(format=axis_format),
                    scale=value_scale,
                ),
            }
            size = {"width": CHART_WIDTH, "height": 240}
        layers = [base.mark_bar().encode(color=col, order=alt.Order("order:Q"), **enc)]
        if horizontal and not normalize and kind == "percent":
            # the share written inside segments wide enough to hold it
            ends: dict[str, float] = {}
            inside = []
            for rec in sorted(records, key=lambda r: r["order"]):
                start = ends.get(rec["cat"], 0.0)
                ends[rec["cat"]] = start + (rec["val"] or 0.0)
                if (rec["val"] or 0) >= 0.08:
                    inside.append({"cat": rec["cat"], "mid": start + rec["val"] / 2, "text": rec["text"]})
            if inside:
                layers.append(
                    alt.Chart(alt.Data(values=inside))
                    .mark_text(fontSize=10, color="white")
                    .encode(y=enc["y"], x=alt.X("mid:Q", scale=value_scale), text="text:N")
                )
        if empty:
            pos_channel = "x" if horizontal else "y"
            cat_channel = "y" if horizontal else "x"
            layers.append(
                alt.Chart(alt.Data(values=[{**e, "pos": 0} for e in empty]))
                .mark_text(align="left" if horizontal else "center", dx=4 if horizontal else 0)
                .encode(
                    **{
                        cat_channel: enc[cat_channel],
                        pos_channel: alt.X("pos:Q") if horizontal else alt.Y("pos:Q"),
                        "text": "text:N",
                    }
                )
            )
        chart = alt.layer(*layers).properties(**size)
        heads = [self.header(x, headers), *series]
        rows = []
        source_rows = {
            (self.value_label(x, r.get(x), labels), self.value_label(color, r.get(color), labels)): r
            for r in data.rows
        }
        prov: dict[tuple[int, int], str] = {}
        for ci_, cat in enumerate(cats):
            row = [cat_labels[cat]]
            for si, s in enumerate(series):
                c = cells.get((cat, s))
                row.append("" if c is None else c.marked)
                if c is not None and y == "value":
                    prov[(ci_, si + 1)] = self.provenance(source_rows[(cat, s)])
            rows.append(row)
        table = self._table(heads, rows, set(range(1, len(heads))), prov)
        all_cells = list(cells.values())
        return self._figure(
            chart=chart,
            title=title,
            alt_text=alt_text
            or self._alt(
                self._("Stacked bar chart"),
                title,
                [(r[0], ", ".join(f"{s} {v}" for s, v in zip(series, r[1:], strict=True) if v)) for r in rows]
                if len(rows) <= 4
                else [],
            ),
            table=table,
            notes=self._notes(all_cells),
        )

    def line_chart(
        self,
        data: QueryResult,
        x: str = "cohort",
        y: str = "value",
        *,
        color: str | None = None,
        title: str | None = None,
        fmt: str = "auto",
        show_ci: bool = True,
        labels: Mapping[str, str] | None = None,
        alt_text: str | None = None,
    ) -> Markup:
        """A value over cohorts (or waves): one line per ``color`` group, if given.

        Suppressed points are not drawn: the line breaks there and the table shows "–".
        Intervals are drawn as vertical lines; a single line also carries value labels.
        """
        cols = [x, y] + ([color] if color else [])
        data = self._require(data, "line_chart", *cols)
        xs_raw = list(dict.fromkeys(r.get(x) for r in data.rows))
        with contextlib.suppress(TypeError):  # mixed types keep the query's order
            xs_raw.sort()
        xs = [self.value_label(x, v, labels) for v in xs_raw]
        keyed: dict[tuple[str, str], Cell] = {}
        series: list[str] = []
        records: list[dict[str, Any]] = []
        for r in data.rows:
            s = self.value_label(color, r.get(color), labels) if color else ""
            key = (self.value_label(x, r.get(x), labels), s)
            if key in keyed:
                raise ComponentError(
                    f"line_chart: query '{data.name}' has several rows for {x}={key[0]!r}"
                    + (f", {color}={s!r}" if color else "")
                    + "; filter it, or pass color=... to draw one line per group"
                )
            c = self.cell(r, y, fmt)
            keyed[key] = c
            if s not in series:
                series.append(s)
            records.append({"x": key[0], "series": s, "val": c.value, "text": c.marked})
        cells = list(keyed.values())
        self._add_ci(records, data, cells, show_ci)
        kind = self._kind_of(cells)
        axis_format, scale = self._axis(kind)
        base = alt.Chart(alt.Data(values=records))
        x_enc = alt.X("x:O", sort=xs, title=self.header(x), axis=alt.Axis(labelAngle=0))
        y_enc = alt.Y("val:Q", title=None, axis=alt.Axis(format=axis_format), scale=scale)
        mark = {"point": True, "invalid": "break-paths-show-domains", "strokeWidth": 2}
        if color:
            col = alt.Color(
                "series:N",
                sort=series,
                title=None,
                legend=alt.Legend(orient="bottom", columns=3, labelLimit=200),
                scale=alt.Scale(scheme="tableau10"),
            )
            layers = [base.mark_line(**mark).encode(x=x_enc, y=y_enc, color=col)]
        else:
            layers = [base.mark_line(color=BAR_COLOR, **mark).encode(x=x_enc, y=y_enc)]
        if any("lo" in r for r in records):
            rule = base.mark_rule(opacity=0.6).encode(x=x_enc, y=alt.Y("lo:Q"), y2="hi:Q")
            layers.append(rule.encode(color=col) if color else rule)
        if not color or len(series) == 1:
            layers.append(
                base.transform_filter("datum.val != null")
                .mark_text(dy=-10, dx=14, fontSize=11)
                .encode(x=x_enc, y=y_enc, text="text:N")
            )
        chart = alt.layer(*layers).properties(width=CHART_WIDTH, height=220)
        headers = [self.header(x)] + ([self.header(color)] if color else [])
        headers += [self.header(y), self._("95 % CI"), "n"]
        rows = []
        for (xv, s), c in keyed.items():
            rows.append([xv] + ([s] if color else []) + [c.marked, c.ci or "", self._n_text(c)])
        offset = 2 if color else 1
        prov = {(i, offset): self.provenance(r) for i, r in enumerate(data.rows) if y == "value"}
        table = self._table(headers, rows, {offset, offset + 1, offset + 2}, prov)
        items = [(" ".join(r[:offset]), r[offset]) for r in rows]
        return self._figure(
            chart=chart,
            title=title,
            alt_text=alt_text or self._alt(self._("Line chart"), title, items),
            table=table,
            notes=self._notes(list(cells)),
        )

    def data_table(
        self,
        data: QueryResult,
        columns: Sequence[str] | None = None,
        *,
        title: str | None = None,
        value: str = "value",
        fmt: str = "auto",
        headers: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        max_rows: int | None = None,
    ) -> Markup:
        """A formatted table of a query result.

        By default shows every column except ``suppressed``, ``numerator`` and the interval
        ends, which are merged into one "95 % CI" column (name it ``ci`` in ``columns``).
        ``denominator`` is shown as "n". Codes in ``indicator``/``wave``/``source``/status
        columns are shown as labels; ``headers`` renames columns, ``labels`` renames codes.
        """
        data = self._require(data, "data_table")
        has_ci = "ci_low" in data.columns and "ci_high" in data.columns
        if columns is None:
            hidden = {"suppressed", "numerator", "ci_low", "ci_high"}
            columns = []
            for c in data.columns:
                if c in hidden:
                    continue
                columns.append(c)
                if c == value and has_ci:
                    columns.append("ci")
        else:
            columns = list(columns)
            unknown = [c for c in columns if c not in data.columns and c != "ci"]
            if unknown or ("ci" in columns and not has_ci):
                raise ComponentError(
                    f"data_table: query '{data.name}' has no column "
                    f"{', '.join(map(repr, unknown or ['ci_low/ci_high']))}"
                )
        rows_in = data.rows[:max_rows] if max_rows else data.rows
        numeric: set[int] = set()
        body: list[list[str]] = []
        prov: dict[tuple[int, int], str] = {}
        used: list[Cell] = []
        for row_i, row in enumerate(rows_in):
            if value == "value" and value in columns:
                prov[(row_i, list(columns).index(value))] = self.provenance(row)
            c = self.cell(row, value, fmt) if value in data.columns else None
            if c is not None:
                used.append(c)
            out = []
            for i, col in enumerate(columns):
                v = row.get(col)
                if col == value and c is not None:
                    text, is_num = c.marked, True
                elif col == "ci":
                    text, is_num = (c.ci or "") if c else "", True
                elif col == "denominator" and c is not None:
                    text, is_num = self._n_text(c), True
                elif is_suppressed(row) and v is None and col not in ("suppressed",):
                    text, is_num = (c.text if c is not None else SUPPRESSED_MARK), True
                elif col == "source" and v is not None and str(v) not in self._labels(labels):
                    text, is_num = self.source_label(row), False
                elif col in CODE_COLUMNS or str(v) in self._labels(labels):
                    text, is_num = self.value_label(col, v, labels), False
                elif isinstance(v, bool):
                    text, is_num = (self._("yes") if v else self._("no")), False
                elif col in PLAIN_NUMBER_COLUMNS and v is not None:
                    text, is_num = str(v), False
                elif isinstance(v, int):
                    text, is_num = self.numbers.integer(v), True
                elif isinstance(v, float | Decimal):
                    text, is_num = self.numbers.decimal(float(v)), True
                else:
                    text, is_num = self.value_label(col, v, labels), False
                if is_num:
                    numeric.add(i)
                out.append(text)
            body.append(out)
        table = self._table([self.header(col, headers) for col in columns], body, numeric, prov)
        caption = f"<caption>{escape(title)}</caption>" if title else ""
        table = table.replace("<table>", f'<table class="data-table">{caption}', 1)
        more = ""
        if max_rows and len(data.rows) > max_rows:
            shown = self._("Showing %(shown)s of %(total)s rows.") % {
                "shown": max_rows,
                "total": len(data.rows),
            }
            more = f'<p class="note">{escape(shown)}</p>'
        return _block('<div class="table-wrap">', table, more, self._notes(used), "</div>")

    def compare_table(
        self,
        data: QueryResult,
        row: str | Sequence[str] = "indicator",
        col: str = "breakdown",
        *,
        title: str | None = None,
        fmt: str = "auto",
        col_order: Sequence[Any] | None = None,
        col_labels: Mapping[str, str] | None = None,
        row_labels: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        show_ci: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> Markup:
        """Values side by side: one line per ``row`` (a column, or several joined with " · "),
        one column per value of ``col`` (e.g. this school / its region / all schools).

        Each cell shows the value and its base, and the 95 % interval on a second line;
        suppressed cells show "–", missing ones are empty. ``col_order`` fixes the columns,
        ``col_labels`` names them, ``row_labels`` renames the row labels.
        """
        rows_cols = [row] if isinstance(row, str) else list(row)
        data = self._require(data, "compare_table", *rows_cols, col, "value")
        columns = (
            list(col_order) if col_order is not None else list(dict.fromkeys(r.get(col) for r in data.rows))
        )
        row_keys: list[tuple[Any, ...]] = []
        cells: dict[tuple[tuple[Any, ...], Any], Mapping[str, Any]] = {}
        for r in data.rows:
            key = tuple(r.get(c) for c in rows_cols)
            if (key, r.get(col)) in cells:
                where = dict(zip(rows_cols, key, strict=True))
                raise ComponentError(
                    f"compare_table: query '{data.name}' has several rows for {where}, "
                    f"{col}={r.get(col)!r}; filter it or add a row column"
                )
            if key not in row_keys:
                row_keys.append(key)
            cells[(key, r.get(col))] = r
        head = [
            (headers or {}).get("row", self._("Indicator")),
            *(str((col_labels or {}).get(str(c), self.value_label(col, c, labels))) for c in columns),
        ]
        lines = []
        used: list[Cell] = []
        for key in row_keys:
            name = " · ".join(
                self.value_label(c, v, labels) for c, v in zip(rows_cols, key, strict=True) if v
            )
            joined = "|".join(str(v) for v in key)
            tds = [f'<th scope="row">{escape(str((row_labels or {}).get(joined, name)))}</th>']
            for c in columns:
                r = cells.get((key, c))
                if r is None:
                    tds.append('<td class="num"></td>')
                    continue
                cell = self.cell(r, "value", fmt)
                used.append(cell)
                parts = [f'<span class="v">{escape(cell.marked)}</span>']
                if cell.n is not None and cell.kind != "integer" and not cell.suppressed:
                    parts.append(f'<span class="n">n = {escape(self._n_text(cell))}</span>')
                if show_ci and cell.ci:
                    parts.append(f'<span class="ci">{escape(cell.ci)}</span>')
                tds.append(f'<td class="num"{self.provenance(r)}>{" ".join(parts)}</td>')
            lines.append(f"<tr>{''.join(tds)}</tr>")
        head = "".join(
            f'<th scope="col"{" class=num" if i else ""}>{escape(h)}</th>' for i, h in enumerate(head)
        )
        caption = f"<caption>{escape(title)}</caption>" if title else ""
        legend = ""
        if show_ci:
            legend = self._("Each cell: value, base n and, below, the 95 % confidence interval.")
            legend = f'<p class="note">{escape(legend)}</p>'
        return _block(
            '<div class="table-wrap">',
            f'<table class="compare-table">{caption}',
            f"<thead><tr>{head}</tr></thead>",
            "<tbody>",
            *lines,
            "</tbody>",
            "</table>",
            legend,
            self._notes(used),
            "</div>",
        )

    def flow(
        self,
        data: QueryResult,
        from_: str = "plan_after_graduation",
        to: str = "current_status",
        value: str = "graduates",
        *,
        title: str | None = None,
        suppress_below: int | None = None,
        labels: Mapping[str, str] | None = None,
        alt_text: str | None = None,
    ) -> Markup:
        """Plan before graduation → status after, as a heat map of row shares.

        Each row is a plan; a cell shows the share of that plan's graduates in each status and
        the count. Counts below ``suppress_below`` (default: the page's suppression threshold)
        show "–"; a plan with fewer graduates in total is not broken down at all. The query
        must return one row per (plan, status): filter it by cohort, wave and breakdown.
        """
        data = self._require(data, "flow", from_, to, value)
        if suppress_below is not None:
            threshold = suppress_below
        elif "mark" in data.columns:  # the published file has decided which cells to show
            threshold = 0
        else:
            threshold = self.settings.suppression_threshold
        counts: dict[tuple[str, str], int | None] = {}  # None: suppressed in the warehouse
        shares: dict[tuple[str, str], float] = {}
        published_total: dict[str, int] = {}  # plan totals published beside the cells
        primary_only: dict[str, bool] = {}
        for r in data.rows:
            key = (str(r.get(from_)), str(r.get(to)))
            if key in counts:
                raise ComponentError(
                    f"flow: query '{data.name}' has several rows for {from_}={key[0]!r}, "
                    f"{to}={key[1]!r}; filter it to one cohort, wave and breakdown"
                )
            counts[key] = None if is_suppressed(r) else _as_int(r.get(value))
            if r.get("share") is not None:  # published on unrounded counts
                shares[key] = float(r["share"])
            if _as_int(r.get("plan_total")) is not None:
                published_total[key[0]] = _as_int(r.get("plan_total")) or 0
            hidden_small = is_suppressed(r) and row_mark(r) in ("small_base", "no_data")
            primary_only[key[0]] = primary_only.get(key[0], True) and (hidden_small or not is_suppressed(r))

        def ordered(codes: list[str]) -> list[str]:
            known = [c for c in STATUS_ORDER if c in codes]
            return known + sorted(c for c in codes if c not in STATUS_ORDER)

        plans = ordered(list(dict.fromkeys(k[0] for k in counts)))
        if "plan_total" in data.columns:  # plans nobody had are left out
            plans = [p for p in plans if published_total.get(p) != 0]
        statuses = ordered(list(dict.fromkeys(k[1] for k in counts)))
        totals: dict[str, int] = {}
        hidden_rows: set[str] = set()
        unknown_total: set[str] = set()
        with_totals = "plan_total" in data.columns
        for p in plans:
            row_counts = [v for (q, _s), v in counts.items() if q == p]
            if with_totals:  # published by disclosure control: cells may be hidden, not the total
                if p in published_total:
                    totals[p] = published_total[p]
                    if totals[p] < threshold:
                        hidden_rows.add(p)
                else:
                    totals[p] = 0
                    hidden_rows.add(p)
                    if not primary_only.get(p, True):
                        unknown_total.add(p)
                continue
            totals[p] = sum(v or 0 for v in row_counts)
            if None in row_counts:
                unknown_total.add(p)
            # A row whose total is unknown or small is not broken down at all.
            if p in unknown_total or totals[p] < threshold:
                hidden_rows.add(p)
        plan_label = {}
        for p in plans:
            name = self.label(p, labels)
            if p not in hidden_rows:
                plan_label[p] = f"{name} (n = {self.numbers.integer(totals[p])})"
            elif p in unknown_total:  # a cell suppressed upstream: the total is not known
                plan_label[p] = name
            else:
                plan_label[p] = f"{name} (n < {threshold or self.settings.suppression_threshold})"
        status_label = {s: self.label(s, labels) for s in statuses}
        records = []
        table_rows = []
        any_suppressed = False
        for p in plans:
            trow = [plan_label[p]]
            for s in statuses:
                cell_rec: dict[str, Any] = {"plan": plan_label[p], "status": status_label[s]}
                if p in hidden_rows:
                    any_suppressed = True
                    cell_rec.update(share=None, text=SUPPRESSED_MARK, dark=False)
                    trow.append(SUPPRESSED_MARK)
                elif (p, s) not in counts or (counts[(p, s)] == 0 and not shares.get((p, s))):
                    cell_rec.update(share=None, text="", dark=False)
                    trow.append(self.numbers.integer(0))
                else:
                    count = counts[(p, s)]
                    if count is None or count < threshold:
                        any_suppressed = True
                        cell_rec.update(share=None, text=SUPPRESSED_MARK, dark=False)
                        trow.append(SUPPRESSED_MARK)
                    else:
                        share = shares.get((p, s), count / totals[p])
                        pct = self.numbers.percent(share)
                        n_text = self.numbers.integer(count)
                        cell_rec.update(share=share, text=f"{pct}\nn = {n_text}", dark=share >= 0.55)
                        trow.append(f"{pct} ({n_text})")
                records.append(cell_rec)
            table_rows.append(trow)
        if any_suppressed:
            self.state.symbols.add("small_base")
        base = alt.Chart(alt.Data(values=records))
        y_enc = alt.Y(
            "plan:N",
            sort=[plan_label[p] for p in plans],
            title=self.header(from_),
            axis=alt.Axis(labelLimit=220),
        )
        x_enc = alt.X(
            "status:N",
            sort=[status_label[s] for s in statuses],
            title=self.header(to),
            axis=alt.Axis(orient="top", labelAngle=0, labelLimit=80),
        )
        rects = (
            base.transform_filter("datum.share != null")
            .mark_rect(stroke="white")
            .encode(
                x=x_enc,
                y=y_enc,
                color=alt.Color("share:Q", scale=alt.Scale(scheme="blues", domain=[0, 1]), legend=None),
            )
        )
        texts = base.mark_text(fontSize=10, lineBreak="\n").encode(
            x=x_enc,
            y=y_enc,
            text="text:N",
            color=alt.Color(
                "dark:N", scale=alt.Scale(domain=[True, False], range=["white", "#222"]), legend=None
            ),
        )
        chart = alt.layer(rects, texts).properties(width=alt.Step(84), height=alt.Step(42))
        headers = [self.header(from_), *(status_label[s] for s in statuses)]
        table = self._table(headers, table_rows, set(range(1, len(headers))))
        items = []
        for p in plans:
            if p in hidden_rows:
                continue
            best = max(
                (s for s in statuses if (counts.get((p, s)) or 0) >= threshold),
                key=lambda s: counts.get((p, s)) or 0,
                default=None,
            )
            if best:
                share = self.numbers.percent(shares.get((p, best), (counts[(p, best)] or 0) / totals[p]))
                items.append((plan_label[p], f"{share} {status_label[best]}"))
        note = self._notes("small_base" if any_suppressed else None)
        return self._figure(
            chart=chart,
            title=title,
            alt_text=alt_text
            or self._alt(self._("Heat map of plans before graduation against status after"), title, items),
            table=table,
            notes=note,
        )

    def caution(
        self,
        text: str | None = None,
        *,
        title: str | None = None,
        caller: Callable[[], str] | None = None,
    ) -> Markup:
        """A callout box for caveats; the text is Markdown.

        Either ``{{ caution(_('Few graduates answered.')) }}`` or, for longer text,
        ``{% call caution(title=_('Read with care')) %} …Markdown… {% endcall %}``.
        """
        body = caller() if caller is not None else (text or "")
        inner = self._md.render(str(escape(body)).strip())
        heading = title if title is not None else self._("Caution")
        return _block(
            '<aside class="callout caution" role="note">',
            f'<p class="callout-title">{SMALL_BASE_MARK} {escape(heading)}</p>',
            inner,
            "</aside>",
        )

    def page_notes(self) -> Markup:
        """The legend of the marks used on the page, for its end."""
        return Markup(self._notes(set(self.state.symbols)).replace('class="note"', 'class="note page-notes"'))
