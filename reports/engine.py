"""Render report pages: Markdown + YAML front matter + named SQL blocks + Jinja2 components.

A page (see ``reports/README.md``) is rendered in five steps:

1. split the front matter, the named ```` ```sql name ```` blocks and the Markdown body;
2. render each SQL block's Jinja with the page parameters, where every ``{{ … }}`` becomes a
   bound parameter (``$1``, ``$2`` …), never SQL text, so no parameter value can change the
   query; run it on a DuckDB connection opened ``read_only=True`` without file or network
   access; only one read-only statement per block is accepted;
3. expose each result as a :class:`QueryResult` (suppressed rows already masked) and render
   the body with Jinja2 and the components to Markdown, written beside the HTML;
4. Markdown → HTML with markdown-it-py (tables on), charts put back in as inline SVG;
5. wrap in ``templates/base.html.j2``: one self-contained file, inline CSS, print styles.
"""

from __future__ import annotations

import gettext as gettext_module
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol
from uuid import UUID

import duckdb
import yaml
from jinja2 import (
    Environment,
    FileSystemLoader,
    FunctionLoader,
    StrictUndefined,
    TemplateSyntaxError,
    pass_context,
)
from jinja2.runtime import Context
from markdown_it import MarkdownIt
from markupsafe import Markup

from reports.components import (
    MARKER_RE,
    Components,
    PageSettings,
    RenderState,
)
from reports.disclosure import DEFAULT_POLICY, Policy, publish, published_path_for
from reports.labels import humanize
from reports.results import QueryResult, mask_suppressed

__all__ = [
    "Page",
    "PageError",
    "PageRequest",
    "ParamSpec",
    "QueryResult",
    "RenderedPage",
    "SqlIdentifier",
    "open_published",
    "open_warehouse",
    "parse_page",
    "published_copy",
    "published_policy",
    "render_page",
    "render_site",
    "render_sql",
]

TEMPLATES_DIR = Path(__file__).parent / "templates"

FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*(?:\r?\n|\Z)", re.S | re.M)
SQL_BLOCK_RE = re.compile(
    r"^```sql[ \t]+(?P<name>[^\s`]+)[ \t]*\r?\n(?P<sql>.*?)^```[ \t]*$\r?\n?", re.S | re.M
)
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# '{{ x }}' written with SQL quotes around a single placeholder: the quotes are dropped and
# the value bound as text, which is what the author meant.
QUOTED_PLACEHOLDER_RE = re.compile(r"'(\{\{-?)((?:(?!\}\}).)*?)(-?\}\})'", re.S)
INDICATOR_MEASURES = frozenset({"value", "numerator", "denominator", "ci_low", "ci_high", "base"})

FRONT_MATTER_KEYS = frozenset(
    {"title", "description", "params", "suppression_threshold", "small_base", "page_breaks", "labels"}
)
PARAM_TYPES = ("str", "int", "float", "bool", "date", "list")


class Translations(Protocol):
    """What the engine needs from a translations object (``gettext.NullTranslations`` fits)."""

    def gettext(self, message: str, /) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


class PageError(Exception):
    """A page cannot be rendered; the message names the page, and the SQL block or line."""

    def __init__(
        self,
        page: str | Path,
        message: str,
        *,
        block: str | None = None,
        line: int | None = None,
    ) -> None:
        where = str(page)
        if block:
            where += f", sql block '{block}'"
        if line:
            where += f", line {line}"
        super().__init__(f"{where}: {message}")
        self.page = str(page)
        self.block = block
        self.line = line


# --------------------------------------------------------------------------- page model


@dataclass(frozen=True)
class ParamSpec:
    """A declared page parameter; ``type`` converts values given as text (e.g. on a CLI)."""

    name: str
    type: str | None = None
    default: Any = None
    required: bool = True


@dataclass(frozen=True)
class SqlBlock:
    """One named query of a page; ``line`` is where its SQL starts in the file."""

    name: str
    template: str
    line: int


@dataclass(frozen=True)
class Page:
    """A parsed page. ``body`` keeps the file's line numbers so Jinja errors point at them."""

    path: Path
    meta: dict[str, Any]
    params: tuple[ParamSpec, ...]
    blocks: tuple[SqlBlock, ...]
    body: str
    settings: PageSettings


@dataclass(frozen=True)
class RenderedPage:
    """Where a rendered page was written, and what to list in the site index."""

    page_path: Path
    title: str
    params: dict[str, Any]
    markdown_path: Path
    html_path: Path
    warnings: tuple[str, ...] = ()
    results: dict[str, QueryResult] = field(default_factory=dict, compare=False, repr=False)
    locale: str = "en"


@dataclass(frozen=True)
class PageRequest:
    """A page to render with its parameters (for :func:`render_site`)."""

    page_path: str | Path
    params: Mapping[str, Any] = field(default_factory=dict)


def _blank_lines(text: str) -> str:
    """As many newlines as ``text`` spans, so removing it keeps later line numbers."""
    return "\n" * text.count("\n")


def _parse_params(page: Path, raw: Any) -> tuple[ParamSpec, ...]:
    """``params: [a, b]`` (required, as given) or ``params: {a: int, b: {type: str, default: x}}``."""
    if raw is None:
        return ()
    specs: list[ParamSpec] = []
    if isinstance(raw, list):
        items: list[tuple[Any, Any]] = [(name, None) for name in raw]
    elif isinstance(raw, dict):
        items = list(raw.items())
    else:
        raise PageError(page, "front matter 'params' must be a list of names or a mapping")
    for name, decl in items:
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise PageError(page, f"parameter name {name!r} is not a valid name")
        if decl is None or isinstance(decl, str):
            spec = ParamSpec(name, decl)
        elif isinstance(decl, dict):
            unknown = set(decl) - {"type", "default"}
            if unknown:
                raise PageError(page, f"parameter {name!r}: unknown keys {sorted(unknown)}")
            spec = ParamSpec(name, decl.get("type"), decl.get("default"), required="default" not in decl)
        else:
            raise PageError(page, f"parameter {name!r}: write a type name or {{type:, default:}}")
        if spec.type is not None and spec.type not in PARAM_TYPES:
            raise PageError(page, f"parameter {name!r}: type must be one of {', '.join(PARAM_TYPES)}")
        specs.append(spec)
    return tuple(specs)


def parse_page(path: str | Path) -> Page:
    """Read a page file into front matter, SQL blocks and body; checks names, not SQL."""
    page_path = Path(path)
    source = page_path.read_text(encoding="utf-8")
    meta: dict[str, Any] = {}
    body = source
    match = FRONT_MATTER_RE.match(source)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            raise PageError(
                page_path, f"front matter is not valid YAML (quote values with {{{{ }}}}): {exc}"
            ) from exc
        if not isinstance(loaded, dict):
            raise PageError(page_path, "front matter must be a YAML mapping")
        meta = loaded
        body = _blank_lines(match.group(0)) + source[match.end() :]
    unknown = set(meta) - FRONT_MATTER_KEYS
    if unknown:
        raise PageError(
            page_path,
            f"unknown front matter keys {sorted(unknown)}; known: {sorted(FRONT_MATTER_KEYS)}",
        )
    blocks: list[SqlBlock] = []

    def take(m: re.Match[str]) -> str:
        name = m.group("name")
        line = body.count("\n", 0, m.start()) + 2
        if not NAME_RE.match(name):
            raise PageError(page_path, f"sql block name {name!r} must be a simple name", line=line)
        if any(b.name == name for b in blocks):
            raise PageError(page_path, "two sql blocks have this name", block=name, line=line)
        blocks.append(SqlBlock(name, m.group("sql"), line))
        return _blank_lines(m.group(0))

    body = SQL_BLOCK_RE.sub(take, body)
    try:
        settings = PageSettings(
            suppression_threshold=int(meta.get("suppression_threshold", 5)),
            small_base=int(meta.get("small_base", 30)),
        )
    except (TypeError, ValueError) as exc:
        raise PageError(page_path, f"suppression_threshold/small_base must be numbers: {exc}") from exc
    labels = meta.get("labels", {})
    if not isinstance(labels, dict):
        raise PageError(page_path, "front matter 'labels' must map codes to labels")
    return Page(page_path, meta, _parse_params(page_path, meta.get("params")), tuple(blocks), body, settings)


def _coerce(page: Path, spec: ParamSpec, value: Any) -> Any:
    """Convert a parameter to its declared type; a bad value is the caller's error, said so."""
    if value is None or spec.type is None:
        return value
    try:
        if spec.type == "str":
            return str(value)
        if spec.type == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if spec.type == "float":
            return float(value)
        if spec.type == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "yes", "1"):
                return True
            if text in ("false", "no", "0"):
                return False
            raise ValueError(value)
        if spec.type == "date":
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if spec.type == "list":
            if isinstance(value, str):
                return [v.strip() for v in value.split(",") if v.strip()]
            return list(value)
    except (TypeError, ValueError) as exc:
        raise PageError(page, f"parameter {spec.name!r}: {value!r} is not a {spec.type}") from exc
    return value  # pragma: no cover - types are validated when parsing


def resolve_params(page: Page, given: Mapping[str, Any]) -> dict[str, Any]:
    """Declared parameters only, in declaration order: defaults filled, types converted."""
    out: dict[str, Any] = {}
    missing = []
    for spec in page.params:
        if spec.name in given:
            out[spec.name] = _coerce(page.path, spec, given[spec.name])
        elif spec.required:
            missing.append(spec.name)
        else:
            out[spec.name] = _coerce(page.path, spec, spec.default)
    if missing:
        raise PageError(page.path, f"missing parameter(s): {', '.join(missing)}")
    return out


# --------------------------------------------------------------------------- SQL


@dataclass(frozen=True)
class SqlIdentifier:
    """A column or table name chosen by a parameter: validated, then double-quoted."""

    name: str

    def quoted(self) -> str:
        parts = self.name.split(".")
        if not all(NAME_RE.match(p) for p in parts):
            raise ValueError(f"{self.name!r} is not a plain identifier")
        return ".".join(f'"{p}"' for p in parts)


BINDABLE = (str, int, float, bool, Decimal, date, datetime, time, UUID)


def _bind(binds: list[Any], value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, Markup):
        value = str(value)
    if not isinstance(value, BINDABLE):
        raise TypeError(f"a {type(value).__name__} cannot be used as a SQL value")
    binds.append(value)
    return f"${len(binds)}"


@pass_context
def _sql_finalize(context: Context, value: Any) -> str:
    """Every ``{{ … }}`` in SQL becomes ``$n`` and its value a bound parameter.

    Lists become ``$1, $2, …`` (for ``in ({{ params.schools }})``); an empty list becomes
    NULL so ``in (NULL)`` matches nothing. Identifiers must go through ``sql_identifier``.
    """
    binds: list[Any] = context["__sql_binds__"]
    if isinstance(value, SqlIdentifier):
        return value.quoted()
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else list(value)
        return ", ".join(_bind(binds, v) for v in items) if items else "NULL"
    return _bind(binds, value)


def _sql_env() -> Environment:
    env = Environment(
        undefined=StrictUndefined,
        autoescape=False,
        finalize=_sql_finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["sql_identifier"] = SqlIdentifier
    return env


class _SqlLexState:
    """Tracks whether template text leaves us inside a SQL string, identifier or comment."""

    def __init__(self) -> None:
        self.state = "code"
        self.dollar_tag = ""

    def feed(self, text: str) -> None:
        i = 0
        while i < len(text):
            ch = text[i]
            if self.state == "code":
                if ch == "'":
                    self.state = "a string literal"
                elif ch == '"':
                    self.state = "a quoted identifier"
                elif text.startswith("--", i):
                    self.state, i = "a comment", i + 2
                    continue
                elif text.startswith("/*", i):
                    self.state, i = "a block comment", i + 2
                    continue
                elif ch == "$":
                    m = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", text[i:])
                    if m:
                        self.state, self.dollar_tag = "a dollar-quoted string", m.group(0)
                        i += len(m.group(0))
                        continue
            elif self.state == "a string literal" and ch == "'":
                self.state = "code"  # a doubled '' closes and reopens: same net effect
            elif (self.state, ch) in (("a quoted identifier", '"'), ("a comment", "\n")):
                self.state = "code"
            elif self.state == "a block comment" and text.startswith("*/", i):
                self.state, i = "code", i + 2
                continue
            elif self.state == "a dollar-quoted string" and text.startswith(self.dollar_tag, i):
                self.state, i = "code", i + len(self.dollar_tag)
                continue
            i += 1


def _check_placeholders(env: Environment, source: str) -> None:
    """Refuse ``{{ }}`` inside quotes or comments: a bound ``$1`` there would not be a value."""
    lexer = _SqlLexState()
    for lineno, token, value in env.lex(source):
        if token == "data":
            lexer.feed(value)
        elif token == "variable_begin" and lexer.state != "code":
            raise ValueError(
                f"line {lineno} of the block: a {{{{ … }}}} placeholder inside {lexer.state}; "
                "write it outside quotes, e.g. where school = {{ params.school_code }} or "
                "like '%' || {{ params.text }} || '%'"
            )


def render_sql(template: str, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """SQL text with ``$n`` placeholders and the values to bind, from a block's template."""
    env = _sql_env()
    source = QUOTED_PLACEHOLDER_RE.sub(r"\1 (\2)|string \3", template)
    _check_placeholders(env, source)
    binds: list[Any] = []
    sql = env.from_string(source).render(params=dict(params), __sql_binds__=binds)
    return sql, binds


def open_warehouse(path: str | Path) -> duckdb.DuckDBPyConnection:
    """The warehouse, read-only and without file or network access (no COPY, read_csv, httpfs)."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"warehouse not found: {path}")
    return duckdb.connect(str(path), read_only=True, config={"enable_external_access": False})


def _ensure_read_only(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute("select database_name, readonly from duckdb_databases() where not internal").fetchall()
    writable = [name for name, readonly in rows if not readonly]
    if writable:
        raise ValueError(
            f"reports need a read-only connection, database(s) {writable} are writable: "
            "pass the warehouse path, or duckdb.connect(path, read_only=True)"
        )


def published_policy(con: duckdb.DuckDBPyConnection) -> Policy | None:
    """The policy a published file was controlled with, or None for a raw warehouse."""
    try:
        cursor = con.execute("select * from published.meta")
        cols = [d[0] for d in cursor.description or ()]
        fetched = cursor.fetchall()  # fetched whole: DuckDB 2.0 refuses more work on a half-read result
    except duckdb.Error:
        return None
    if not fetched:
        return None
    row = fetched[0]
    meta = dict(zip(cols, row, strict=True))
    return Policy(
        threshold=int(meta["suppression_threshold"]),
        rounding_base=int(meta.get("rounding_base") or 1),
        low_precision_base=int(meta.get("low_precision_base") or 0),
        low_precision_width=float(meta.get("low_precision_width") or 1.0),
    )


def published_copy(warehouse: str | Path, policy: Policy = DEFAULT_POLICY) -> Path:
    """The disclosure-controlled copy of a warehouse file, made once per file state and policy.

    Cached in the temp folder under a name derived from the file's path, size and modification
    time, so the pages of one site build share one copy and a rebuilt warehouse gets a new one.
    """
    source = Path(warehouse)
    if not source.is_file():
        raise FileNotFoundError(f"warehouse not found: {warehouse}")
    target = published_path_for(source, policy)
    if not target.is_file():
        publish(source, target, policy)
    return target


@contextmanager
def open_published(
    con_or_path: str | Path | duckdb.DuckDBPyConnection,
    policy: Policy = DEFAULT_POLICY,
    *,
    minimum_threshold: int = 1,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to published numbers only (``reports.disclosure``).

    A path is published with ``policy`` (or its cached copy reused); a read-only connection to a
    raw warehouse is published into a temporary file; a connection to a published file is used
    as it is, whatever policy it was published with, if its threshold is at least
    ``minimum_threshold`` (what a page's front matter asks for). Pages never see the warehouse
    itself, so disclosure control cannot be bypassed by SQL.
    """
    if isinstance(con_or_path, duckdb.DuckDBPyConnection):
        _ensure_read_only(con_or_path)
        published = published_policy(con_or_path)
        if published is not None:
            if published.threshold < minimum_threshold:
                raise ValueError(
                    f"the connection was published with threshold {published.threshold}; "
                    f"this page needs at least {minimum_threshold}"
                )
            yield con_or_path
            return
        with tempfile.TemporaryDirectory(prefix="gradtrack-published-") as tmp:
            path = publish(con_or_path, Path(tmp) / "published.duckdb", policy)
            con = open_warehouse(path)
            try:
                yield con
            finally:
                con.close()
        return
    con = open_warehouse(published_copy(con_or_path, policy))
    try:
        yield con
    finally:
        con.close()


def _is_read_query(statement: Any, sql: str) -> bool:
    if statement.type == duckdb.StatementType.SELECT:
        return True
    # PIVOT is reported as MULTI (it prepares a type first) but only reads.
    return statement.type == duckdb.StatementType.MULTI and bool(re.match(r"\s*(un)?pivot\b", sql, re.I))


def run_block(
    con: duckdb.DuckDBPyConnection, page: Page, block: SqlBlock, params: Mapping[str, Any]
) -> QueryResult:
    """Run one SQL block; every failure is a PageError naming the page and the block."""
    try:
        sql, binds = render_sql(block.template, params)
    except Exception as exc:
        raise PageError(page.path, f"{type(exc).__name__}: {exc}", block=block.name) from exc
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise PageError(page.path, f"SQL does not parse: {exc}", block=block.name) from exc
    if len(statements) != 1:
        raise PageError(
            page.path,
            f"a block holds exactly one query, this one holds {len(statements)}",
            block=block.name,
        )
    if not _is_read_query(statements[0], sql):
        raise PageError(
            page.path,
            f"only read-only queries (select, with, from, pivot) are allowed; this is a "
            f"{statements[0].type.name} statement, and the warehouse is opened read-only",
            block=block.name,
        )
    try:
        cursor = con.execute(sql, binds)
        columns = tuple(d[0] for d in cursor.description or ())
        raw_rows = cursor.fetchall()
    except duckdb.Error as exc:
        raise PageError(
            page.path,
            f"{exc}\n-- SQL as run (parameters {binds!r}):\n{sql.strip()}",
            block=block.name,
        ) from exc
    if len(set(columns)) != len(columns):
        raise PageError(page.path, f"duplicate column names in {columns}", block=block.name)
    if (
        re.search(r"\b(indicators|plan_status_transitions)\b", sql, re.I)
        and (INDICATOR_MEASURES | {"graduates", "plan_total"}) & set(columns)
        and "suppressed" not in columns
    ):
        raise PageError(
            page.path,
            "this query returns indicator values without the 'suppressed' column, so "
            "suppressed values could be published: add 'suppressed' to the select list",
            block=block.name,
        )
    return QueryResult(block.name, columns, tuple(mask_suppressed(columns, raw_rows)))


# --------------------------------------------------------------------------- rendering

_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def _page_loader(page: Page) -> FunctionLoader:
    """Loads the page body under the page's path, so tracebacks carry the page's lines."""

    def load(name: str) -> tuple[str, str, Any] | None:
        if name == str(page.path):
            return page.body, str(page.path), lambda: True
        return None

    return FunctionLoader(load)


def _template_line(exc: BaseException, filename: str) -> int | None:
    """The last line of the page template in an exception's traceback (Jinja rewrites it)."""
    line = getattr(exc, "lineno", None) if isinstance(exc, TemplateSyntaxError) else None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _body_env(page: Page, translations: Translations) -> Environment:
    env = Environment(
        loader=_page_loader(page),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n", "jinja2.ext.loopcontrols", "jinja2.ext.do"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    return env


def _shell_env(translations: Translations) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    return env


def _tidy_markdown(text: str) -> str:
    """Drop the blank runs left by front matter, SQL blocks and Jinja tags."""
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def output_stem(page: Page, params: Mapping[str, Any]) -> str:
    """File name for a page and its parameters, safe whatever the parameter values are."""
    wanted = "__".join([page.path.stem] + [f"{k}-{v}" for k, v in params.items() if v not in (None, "")])
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", wanted)
    if safe != wanted:
        safe += "_" + hashlib.sha256(wanted.encode()).hexdigest()[:8]
    return safe


RESERVED_NAMES = frozenset(
    {
        "params",
        "page",
        "locale",
        "_",
        "gettext",
        "ngettext",
        "pgettext",
        "npgettext",
        "range",
        "loop",
        "caller",
        "self",
    }
)


def render_page(
    page_path: str | Path,
    con_path_or_connection: str | Path | duckdb.DuckDBPyConnection,
    params: Mapping[str, Any],
    out_dir: str | Path,
    locale: str = "en",
    translations: Translations | None = None,
) -> RenderedPage:
    """Render one page with its parameters to ``<out_dir>/<name>.md`` and ``.html``."""
    page = parse_page(page_path)
    values = resolve_params(page, params)
    translations = translations or gettext_module.NullTranslations()
    with open_published(con_path_or_connection, minimum_threshold=page.settings.suppression_threshold) as con:
        policy = published_policy(con) or DEFAULT_POLICY
        results = {b.name: run_block(con, page, b, values) for b in page.blocks}
    # The notes say what the file was published with ("fewer than 20"), not the page's minimum.
    settings = replace(
        page.settings,
        suppression_threshold=policy.threshold,
        small_base=policy.low_precision_base,
    )

    state = RenderState()
    components = Components(
        locale=locale,
        gettext=translations.gettext,
        settings=settings,
        state=state,
        page_labels=page.meta.get("labels") or {},
    )
    env = _body_env(page, translations)
    env.filters.update(components.filters())
    taken = (set(components.globals()) | RESERVED_NAMES) & set(results)
    if taken:
        raise PageError(page.path, f"sql block name(s) {sorted(taken)} are reserved; rename them")
    env.globals.update(components.globals())
    context = {
        "params": values,
        "page": {k: v for k, v in page.meta.items() if k not in ("title", "params")},
        "locale": locale,
        **results,
    }
    filename = str(page.path)
    try:
        title_source = str(page.meta.get("title") or humanize(page.path.stem))
        title = Markup(env.from_string(title_source).render(context)).striptags()
        description = page.meta.get("description")
        if description:
            description = Markup(env.from_string(str(description)).render(context)).striptags()
        markdown = env.get_template(filename).render(context)
    except Exception as exc:
        raise PageError(
            page.path, f"{type(exc).__name__}: {exc}", line=_template_line(exc, filename)
        ) from exc
    markdown = _tidy_markdown(f"{markdown}\n\n{components.page_notes()}")

    html_body = _MARKDOWN.render(markdown)
    html_body, replaced = MARKER_RE.subn(lambda m: state.svgs[m.group(1)], html_body)
    if replaced != len(state.svgs):
        raise PageError(
            page.path,
            "a chart ended up inside a code block or paragraph: put each component call at "
            "the start of its own line, not indented, with a blank line before and after",
        )
    shell = _shell_env(translations).get_template("base.html.j2")
    html = shell.render(
        lang=locale.replace("_", "-"),
        title=title,
        description=description,
        params=[(components.header(k), components.value_label(k, v)) for k, v in values.items()],
        body=Markup(html_body),
        page_breaks=bool(page.meta.get("page_breaks", True)),
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = output_stem(page, values)
    md_path, html_path = out / f"{stem}.md", out / f"{stem}.html"
    md_path.write_text(markdown, encoding="utf-8")
    html_path.write_text(html, encoding="utf-8")
    return RenderedPage(
        page_path=page.path,
        title=title,
        params=values,
        markdown_path=md_path,
        html_path=html_path,
        warnings=tuple(state.warnings),
        results=results,
        locale=locale,
    )


def render_site(
    pages: Sequence[RenderedPage | PageRequest],
    out_dir: str | Path,
    *,
    con: str | Path | duckdb.DuckDBPyConnection | None = None,
    locale: str = "en",
    translations: Translations | None = None,
    title: str | None = None,
    policy: Policy = DEFAULT_POLICY,
    downloads: Sequence[tuple[str, Path]] = (),
    description: str | None = None,
) -> Path:
    """Write ``index.html`` linking every page; :class:`PageRequest` items are rendered first.

    Returns the path of the index. Links are relative, so the folder can be copied or zipped.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    translations = translations or gettext_module.NullTranslations()
    rendered: list[RenderedPage] = [p for p in pages if isinstance(p, RenderedPage)]
    requests = [p for p in pages if isinstance(p, PageRequest)]
    if requests:
        if con is None:
            raise ValueError("render_site: pass con= (warehouse path or read-only connection)")
        with open_published(con, policy) as connection:  # once for all pages
            done = {
                id(r): render_page(r.page_path, connection, r.params, out, locale, translations)
                for r in requests
            }
        rendered = [done[id(p)] if isinstance(p, PageRequest) else p for p in pages]

    def rel(path: Path) -> str:
        return Path(os.path.relpath(path.resolve(), out.resolve())).as_posix()

    entries = [
        {
            "title": r.title,
            "params": ", ".join(f"{k} = {v}" for k, v in r.params.items()),
            "html": rel(r.html_path),
            "markdown": rel(r.markdown_path),
            "lang": r.locale,
        }
        for r in rendered
    ]
    files = [{"label": label, "href": rel(path)} for label, path in downloads]
    site_title = title or translations.gettext("Reports")
    html = (
        _shell_env(translations)
        .get_template("index.html.j2")
        .render(
            lang=locale.replace("_", "-"),
            title=site_title,
            description=description,
            params=[],
            entries=entries,
            downloads=files,
            page_breaks=False,
        )
    )
    index = out / "index.html"
    index.write_text(html, encoding="utf-8")
    return index
