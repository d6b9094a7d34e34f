"""Load the landing folder into the warehouse: one transaction per file, every row accounted for.

For each file: sniff encoding/delimiter, parse with DuckDB, adapt to canonical columns, validate,
then in one transaction write the good rows (pseudonymised) to `raw`, the identifiers linkage needs
to `restricted`, the bad rows to `audit.quarantine`, and a row to `audit.load_log`. A file that
cannot be read at all raises `FileRejected` and leaves nothing behind but its `rejected` log row;
`load_source` then goes on with the other files.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from ingestion import limesurvey
from ingestion.adapters import Canonical, admin_select, canonical_select, load_mapping, mapped_select
from ingestion.contract import (
    ADMIN_TYPED,
    CONTEXT,
    REGISTER,
    SURVEY,
    WAVE_OFFSET_MONTHS,
    WAVES,
    FileSpec,
)
from ingestion.csvfile import (
    FileRejected,
    SniffedFile,
    listed,
    prepare,
    read_records,
    read_text_lines,
    records_relation,
    remove_stale_copies,
    sniff,
    uncompressed_name,
)
from ingestion.db import id_norm, quote_ident, quote_literal, rows, scalar
from ingestion.erase import ERASED_REASON, erased_checks
from ingestion.pseudonym import PseudonymKey
from ingestion.validate import Rule, build_typed, violations_sql
from ingestion.warehouse import KEYS, TARGETS, ensure_schema

SOURCES = ("register", "survey", "admin", "context")
# A re-sent file may remove at most this share of its earlier version's rows (GRADTRACK_MAX_SHRINK).
DEFAULT_MAX_SHRINK = 0.2


@dataclass
class FileReport:
    """What happened to one landing file; the numbers users see in the run summary."""

    source: str
    file: str
    status: str  # loaded | skipped_duplicate | rejected | ignored | other_cohort (not logged)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    wave: str | None = None
    adapter: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    message: str = ""
    load_id: str = ""
    cells_quarantined: int = 0  # unreadable optional values loaded as NULL (their rows count as loaded)
    cohorts: tuple[int, ...] = ()  # cohorts of the file's rows (register and surveys)

    def as_dict(self) -> dict:
        return asdict(self)


class LoadError(RuntimeError):
    """One or more landing files could not be read; the others were loaded."""

    def __init__(self, reports: list[FileReport]) -> None:
        failed = [r for r in reports if r.status == "rejected"]
        super().__init__("Could not load: " + "; ".join(f"{r.file}: {r.message}" for r in failed))
        self.reports = reports


# --- what each source writes ------------------------------------------------------------------

NAME_NORM = "nullif(trim(regexp_replace(lower(strip_accents({c})), '[^a-z ]+', ' ', 'g')), '')"


def _name_norm(col: str) -> str:
    return "nullif(regexp_replace(" + NAME_NORM.format(c=col) + ", ' +', ' ', 'g'), '')"


def _name_maps(good: str) -> tuple[str, str]:
    """CTEs and joins normalising each distinct first and last name once.

    Names repeat a lot (a few hundred first names per school) and accent stripping plus two regexes
    cost about a microsecond a value. Select `fn.t` and `ln.t`; the rows must be aliased `g`.
    """
    ctes = ", ".join(
        f"{m} as (select v, {_name_norm('v')} as t from (select distinct {c} as v from {good}))"
        for m, c in (("fn", "first_name"), ("ln", "last_name"))
    )
    return ctes, "left join fn on fn.v = g.first_name left join ln on ln.v = g.last_name"


def _lineage(file: str, digest: str, load_id: str) -> str:
    return (
        f"{quote_literal(file)} as _source_file, {quote_literal(digest)} as _source_hash, "
        f"_line as _source_line, {quote_literal(load_id)} as _load_id, "
        f"current_localtimestamp() as _loaded_at"
    )


def _register_checks(typed: str, file: str) -> list[str]:
    """Duplicate graduates: within the file, and against what other files already loaded.

    In-file duplicates come from a GROUP BY of the keys seen more than once, joined back to their
    rows (a window over every row sorted the whole file).
    """
    return [
        f"""select t._line, 'student_id', 'duplicate student_id in school '
                   || d.school_code || ' (first at line ' || d.first_line || ')', null, false
            from (select upper(school_code) as school_code, student_id, min(_line) as first_line
                  from {typed} where student_id is not null and school_code is not null
                  group by all having count(*) > 1) d
            join {typed} t on upper(t.school_code) = d.school_code and t.student_id = d.student_id
            where t._line > d.first_line""",
        f"""select t._line, 'student_id', 'student_id already in the register from '
                   || r._source_file || ' line ' || r._source_line, null, false
            from {typed} t join restricted.register_identifiers r
              on r.school_code = upper(t.school_code) and r.student_id = t.student_id
            where r._source_file <> {quote_literal(file)}""",
    ]


def _context_checks(typed: str, file: str) -> list[str]:
    """One value per region, year and indicator: a second one would double the context figure."""
    return [
        f"""select t._line, 'indicator', 'duplicate region, year and indicator (first at line '
                   || d.first_line || ')', t.indicator, false
            from (select region, year, indicator, min(_line) as first_line from {typed}
                  where region is not null and year is not null and indicator is not null
                  group by all having count(*) > 1) d
            join {typed} t using (region, year, indicator)
            where t._line > d.first_line""",
        f"""select t._line, 'indicator', 'region, year and indicator already loaded from '
                   || c._source_file || ' line ' || c._source_line, t.indicator, false
            from {typed} t join raw.context_indicators c using (region, year, indicator)
            where c._source_file <> {quote_literal(file)}""",
    ]


def _survey_checks(typed: str) -> list[str]:
    """Duplicate response ids (rows without an id count as one group, as a window partition does)."""
    return [
        f"""select t._line, 'response_id', 'duplicate response_id in the file (first at line '
                   || d.first_line || ')', t.response_id, false
            from (select response_id, min(_line) as first_line from {typed}
                  group by response_id having count(*) > 1) d
            join {typed} t on t.response_id is not distinct from d.response_id
            where t._line > d.first_line""",
    ]


# The input checks of orchestration/defs/quality (GX) enforced here per row, so that one school's bad
# values are held back at load time (the row, or only the cell) instead of failing the check, and
# with it every school's build. The GX suites stay as a backstop over the loaded tables.
EARLIEST_SURVEY = "2000-01-01"
REGISTER_RULES = [
    Rule(
        "cohort not between 1990 and year(current_date) + 1",
        "'cohort'",
        "'cohort is not a plausible graduation year (1990 to next year)'",
        "cohort::varchar",
    ),
    Rule(
        "year(graduation_date) - cohort not in (0, 1)",
        "'graduation_date'",
        "'graduation_date is not in the cohort year or the next'",
        "strftime(graduation_date, '%Y-%m-%d')",
    ),
    Rule(
        "year(graduation_date) - year(birth_date) not between 14 and 70",
        "'birth_date'",
        "'birth_date gives an age at graduation outside 14-70 (birth date loaded as NULL)'",
        "null",
        kept=True,
    ),
]
SURVEY_RULES = [
    Rule(
        "submitted_at < started_at",
        "'submitted_at'",
        "'submitted_at is before started_at'",
        "strftime(submitted_at, '%Y-%m-%d %H:%M:%S')",
    ),
    *[
        Rule(
            f"{c} <> timestamp '{limesurvey.NO_DATE_STAMP}' and ({c} < timestamp '{EARLIEST_SURVEY}' "
            f"or {c} > current_localtimestamp() + interval 1 day)",
            quote_literal(c),
            f"'{c} is before 2000 or in the future (loaded as NULL)'",
            f"strftime({c}, '%Y-%m-%d %H:%M:%S')",
            kept=True,
        )
        for c in ("started_at", "submitted_at")
    ],
]


def _admin_rules() -> list[Rule]:
    """Spell order, and the TGSS codes of rows that carry them (TGSS extracts, `source = es_tgss`)."""
    return [
        Rule(
            "spell_start < date '1950-01-01' or spell_start > current_date + interval 1 year",
            "'spell_start'",
            "'spell_start is not a plausible date (1950 to a year from now)'",
            "strftime(spell_start, '%Y-%m-%d')",
        ),
        Rule(
            "spell_end < spell_start",
            "'spell_end'",
            "'spell_end is before spell_start'",
            "strftime(spell_end, '%Y-%m-%d')",
        ),
        Rule(
            "part_time_pct not between 0 and 100",
            "'part_time_pct'",
            "'part_time_pct outside 0-100 (loaded as NULL)'",
            "part_time_pct::varchar",
            kept=True,
        ),
        Rule(
            "regime is not null and upper(regime) not in ('RG', 'RETA')",
            "'regime'",
            "'unknown TGSS regime (expected RG or RETA)'",
            "regime",
        ),
        Rule(
            "upper(regime) = 'RG' and (contract_key is null "
            "or not regexp_full_match(contract_key, '[1-5][0-9]{2}'))",
            "'contract_key'",
            "'unknown SEPE contract key (expected 1xx-5xx, three digits)'",
            "contract_key",
        ),
    ]


def _insert_register(con, good: str, lin: str, t: str) -> int:
    """Both register tables; each HMAC is computed once per row (the key goes to both tables)."""
    con.execute(f"""
        create or replace temp table {t}_keys as
        select _line,
               pseudonym('graduate', upper(school_code) || '|' || student_id) as graduate_key,
               pseudonym('person', {id_norm("national_id")}) as person_key
        from {good}""")
    n = _count(
        con,
        f"""
        insert into raw.register by name
        select k.graduate_key, k.person_key,
               upper(school_code) as school_code, school_name, upper(country) as country,
               upper(region) as region, sex, qualification_code, qualification_name,
               eqf_level::integer as eqf_level, professional_family, sector_group, cohort,
               graduation_date, language, year(birth_date) as birth_year, {lin}
        from {good} g join {t}_keys k using (_line)""",
    )
    names, name_joins = _name_maps(good)
    con.execute(f"""
        insert into restricted.register_identifiers by name
        with {names}
        select k.graduate_key,
               upper(school_code) as school_code, cohort, student_id,
               {id_norm("national_id")} as national_id, token,
               first_name, last_name, fn.t as first_name_norm, ln.t as last_name_norm, birth_date,
               nullif(lower(trim(email)), '') as email_norm,
               nullif(regexp_replace(phone, '[^0-9]', '', 'g'), '') as phone_norm, {lin}
        from {good} g join {t}_keys k using (_line) {name_joins}""")
    return n


def _insert_survey(con, good: str, lin: str, wave: str, file: str) -> int:
    key = f"md5({quote_literal(wave + '|' + file + '|')} || response_id)"
    # A complete anonymized response without date stamps has submitdate 1980-01-01: complete, undated.
    started, submitted = _dated("started_at"), _dated("submitted_at")
    items = [
        c.name
        for c in SURVEY.columns
        if c.name
        not in (
            "response_id",
            "started_at",
            "submitted_at",
            "language",
            "token",
            "student_id",
            "school_code",
            "national_id",
            "first_name",
            "last_name",
            "birth_date",
            "email",
        )
    ]
    n = _count(
        con,
        f"""
        insert into raw.survey_{wave} by name
        select {key} as response_key, {quote_literal(wave)} as wave, response_id,
               upper(school_code) as school_code, {started} as started_at, {submitted} as submitted_at,
               submitted_at is not null as is_complete,
               case when {submitted} is not null and {started} is not null
                    then epoch({submitted} - {started}) / 60.0 end as minutes_to_complete,
               language, {", ".join(items)}, {lin}
        from {good}""",
    )
    names, name_joins = _name_maps(good)
    con.execute(f"""
        insert into restricted.survey_identifiers by name
        with {names}
        select {key} as response_key, {quote_literal(wave)} as wave,
               upper(school_code) as school_code, trim(token) as token, student_id,
               {id_norm("national_id")} as national_id,
               fn.t as first_name_norm, ln.t as last_name_norm, birth_date,
               nullif(lower(trim(email)), '') as email_norm, {lin}
        from {good} g {name_joins}""")
    return n


def _insert_admin(con, good: str, lin: str, file: str) -> int:
    """Employment spells. Pseudonyms are computed once per distinct identifier and joined back:
    a person has several spells and an employer many. `contract_type` is already the contract's
    (the adapter mapped SEPE keys and regimes, see adapters.admin_select)."""
    contract, source_code = "contract_type", "coalesce(contract_key, upper(regime))"
    part_time = "coalesce(left(contract_key, 1) in ('2', '5'), false) or coalesce(part_time_pct, 100) < 100"
    person, employer = id_norm("national_id"), "nullif(trim(employer_id), '')"
    return _count(
        con,
        f"""
        insert into raw.employment_spells by name
        with g as (select *, {person} as _person, {employer} as _employer from {good}),
             p as (select v, pseudonym('person', v) as k from (select distinct _person as v from g)),
             e as (select v, pseudonym('employer', v) as k from (select distinct _employer as v from g))
        select md5({quote_literal(file + "|")} || _line) as spell_key,
               p.k as person_key, e.k as employer_key,
               spell_start, spell_end, {contract} as contract_type,
               {source_code} as source_contract_code, part_time_pct,
               {part_time} as is_part_time, nace_section, monthly_earnings,
               lower(source) as source, extracted_on, {lin}
        from g left join p on p.v = g._person left join e on e.v = g._employer""",
    )


def _insert_context(con, good: str, lin: str) -> int:
    return _count(
        con,
        f"""
        insert into raw.context_indicators by name
        select upper(region) as region, year, indicator, value, source, {lin}
        from {good}""",
    )


def _count(con, sql: str) -> int:
    """Run an INSERT and return the number of rows it wrote."""
    return int(rows(con, sql)[0][0])


# --- one file -----------------------------------------------------------------------------------


def _mapping_of(sniffed: SniffedFile, short: bool = False) -> dict | None:
    """The mapping file beside a landing file (same stem, .yaml or .yml), or None."""
    data_file = uncompressed_name(sniffed.path)
    for suffix in (".yaml", ".yml"):
        path = data_file.with_suffix(suffix)
        if path.exists():
            return load_mapping(path, sniffed.display, short=short)
    return None


def _adapt(source: str, sniffed: SniffedFile, table: str, wave: str | None) -> tuple[FileSpec, Canonical]:
    header, raw, display = sniffed.header, sniffed.raw_header, sniffed.display
    if source == "survey":
        structure = limesurvey.structure_beside(sniffed.path, display)
        mapping = _mapping_of(sniffed, short=structure is not None)
        if structure is not None:
            mapping = limesurvey.mapping_from_structure(structure, header, raw, mapping, display, wave)
        if mapping is not None:
            return SURVEY, mapped_select(SURVEY, header, table, display, mapping, wave, raw_header=raw)
        return SURVEY, canonical_select(SURVEY, header, table, display, raw)
    if source in ("register", "context"):
        spec = REGISTER if source == "register" else CONTEXT
        mapping = _mapping_of(sniffed)
        if mapping is not None:
            return spec, mapped_select(spec, header, table, display, mapping, None, raw_header=raw)
        return spec, canonical_select(spec, header, table, display, raw)
    if source == "admin":
        mapping = _mapping_of(sniffed)
        if mapping is not None:
            mapped = mapped_select(
                ADMIN_TYPED, header, table, display, mapping, None, check_required=False, raw_header=raw
            )
            canon = admin_select(mapped.present, f"({mapped.sql})", display, mapped.headers)
            canon.notes = mapped.notes
            canon.adapter = f"{mapped.adapter}+{canon.adapter}"
            return ADMIN_TYPED, canon
        ignored = [raw[i] for i, h in enumerate(header) if h not in ADMIN_TYPED.names]
        headers = {h: raw[i].strip() for i, h in enumerate(header) if h in ADMIN_TYPED.names}
        canon = admin_select(header, table, display, headers)
        if ignored:
            canon.notes.append(f"ignored columns not in the contract: {listed(ignored)}")
        return ADMIN_TYPED, canon
    raise ValueError(f"unknown source {source!r}")


def _cohort_expr(source: str, wave: str | None) -> str | None:
    """SQL giving the cohort a typed row belongs to; None for sources that span cohorts.

    Survey rows carry no cohort: it is the year of their start minus the wave's distance from
    graduation (a June graduate's m6 answers in January are cohort `year - 1`).
    """
    if source == "register":
        return "cohort"
    if source == "survey":
        months = WAVE_OFFSET_MONTHS[wave or ""]
        return f"year(coalesce({_dated('started_at')}, {_dated('submitted_at')}) - interval {months} month)"
    return None


def _dated(column: str) -> str:
    """A survey timestamp, NULL when it is LimeSurvey's "no date" stamp of anonymized surveys without
    date stamps (1980-01-01 00:00:00): such a response has no fieldwork date."""
    return f"nullif({column}, timestamp '{limesurvey.NO_DATE_STAMP}')"


def _target_key(source: str, wave: str | None) -> str:
    return f"survey_{wave}" if source == "survey" else source


def _read_typed(
    con: duckdb.DuckDBPyConnection,
    sniffed: SniffedFile,
    source: str,
    wave: str | None,
    t: str,
    parallel: bool,
) -> tuple[FileSpec, Canonical, int, list[dict]]:
    """Parse, adapt and type a sniffed file into temp `<t>_typed`: (spec, adapter, accepted, rejects)."""
    records = records_relation(sniffed, f"{t}_canon_rj", f"{t}_canon_rs", parallel=parallel)
    try:
        spec, canon = _adapt(source, sniffed, records, wave)
    except FileRejected:
        _parse(con, sniffed, f"{t}_check", sniffed.display)  # a parse error is reported first
        raise
    # Parse, trim and rename in one pass (the adapter's SELECT runs over the parser).
    accepted, rejects = _parse(con, sniffed, f"{t}_canon", sniffed.display, canon.sql)
    con.execute(build_typed(spec, f"{t}_canon", f"{t}_typed", distinct_source=f"{t}_canon_rn"))
    return spec, canon, accepted, rejects


def _cohorts_of(con: duckdb.DuckDBPyConnection, typed: str, source: str, wave: str | None) -> tuple[int, ...]:
    cohort_sql = _cohort_expr(source, wave)
    found = rows(con, f"select distinct {cohort_sql} as c from {typed} where c is not null order by c")
    return tuple(int(r[0]) for r in found)


def file_cohorts(path: Path, display: str, source: str, wave: str | None) -> tuple[int, ...]:
    """The cohorts of a register or survey file's rows, read exactly as `load_file` reads them but in
    an in-memory database (the landing sensor's probe; nothing is written anywhere)."""
    if _cohort_expr(source, wave) is None:
        return ()
    con = duckdb.connect()
    try:
        with sniff(path, display) as sniffed:
            _read_typed(con, sniffed, source, wave, "probe", parallel=False)
            return _cohorts_of(con, "probe_typed", source, wave)
    finally:
        con.close()


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    display: str,
    source: str,
    *,
    wave: str | None = None,
    cohorts: Sequence[int] | None = None,
    prepared: Future[SniffedFile] | None = None,
    max_shrink: float | None = DEFAULT_MAX_SHRINK,
) -> FileReport:
    """Load one file in one transaction. Raises FileRejected when the file as a whole is unreadable.

    With `cohorts`, a register or survey file none of whose rows belong to those cohorts is left
    for its own cohort's run (status `other_cohort`, nothing logged); a file that has rows of a
    requested cohort is loaded whole. `prepared` is `csvfile.prepare` of this file already started.
    A re-sent file that would remove more than `max_shrink` of its earlier version's rows is
    rejected (None: any shrink is accepted), so a truncated or mis-delimited export never
    silently replaces a good one.
    """
    load_id = str(uuid.uuid4())
    report = FileReport(source=source, file=display, status="rejected", wave=wave, load_id=load_id)
    started = scalar(con, "select current_localtimestamp()")
    try:
        with sniff(path, display, prepared) as sniffed:
            report.encoding, report.delimiter = sniffed.encoding, sniffed.delimiter
            done = rows(
                con,
                "select file from audit.load_log where content_hash = ? and status = 'loaded'",
                [sniffed.content_hash],
            )
            if done:
                report.status = "skipped_duplicate"
                report.message = f"same content as {done[0][0]}, already loaded"
                _log(con, report, sniffed.content_hash, started)
                return report
            t = "gt_file"
            ordered = scalar(con, "select current_setting('preserve_insertion_order')")
            spec, canon, accepted, rejects = _read_typed(con, sniffed, source, wave, t, bool(ordered))
            report.adapter = canon.adapter
            typed = f"{t}_typed"
            if _cohort_expr(source, wave):
                report.cohorts = _cohorts_of(con, typed, source, wave)
                undated = source == "survey" and accepted and not report.cohorts
                if undated:
                    # No fieldwork date (an anonymized survey): its cohort comes from the register
                    # through linkage, so it loads in any cohort's run (once: its hash is then known).
                    sniffed.notes.append("no fieldwork dates: cohorts come from the linked register")
                elif cohorts is not None and not set(report.cohorts) & set(cohorts):
                    report.status = "other_cohort"
                    report.message = f"rows of cohort(s) {list(report.cohorts)}"
                    return report
            rules: list[Rule] = []
            checks: list[str] = []
            if source == "register":
                rules, checks = REGISTER_RULES, _register_checks(typed, display)
            elif source == "survey":
                rules, checks = SURVEY_RULES, _survey_checks(typed)
            elif source == "admin":
                rules = _admin_rules()
            else:
                checks = _context_checks(typed, display)
            checks += erased_checks(con, source, typed)  # rows of erased persons (docs/erasure.md)
            flag_rows, rule_selects = violations_sql(spec, rules, typed, f"{t}_canon_rn", f"{t}_flagged")
            con.execute(flag_rows)
            con.execute(f"drop view {t}_canon")
            con.execute(f"drop table {t}_canon_rn")
            con.execute(
                f"create or replace temp table {t}_bad (line bigint, column_name varchar, "
                "reason varchar, value varchar, kept boolean)"
            )
            con.execute(f"insert into {t}_bad " + " union all ".join(rule_selects + checks))
            # A line with a row-level problem is rejected whole; cell problems alone keep the row.
            con.execute(
                f"""update {t}_bad set kept = false
                    where line in (select line from {t}_bad where not kept)"""
            )
            # Cells a rule found wrong in an otherwise good row load as NULL.
            for (column,) in rows(con, f"select distinct column_name from {t}_bad where kept"):
                if column in spec.names:
                    con.execute(
                        f"""update {typed} set {quote_ident(column)} = null
                            where _line in (select line from {t}_bad where kept and column_name = ?)""",
                        [column],
                    )
            bad_lines, bad_cells, noted = rows(
                con,
                f"""select count(distinct line) filter (where not kept), count(*) filter (where kept),
                           count(*) from {t}_bad""",
            )[0]
            if noted:
                read_text_lines(con, sniffed, f"{t}_text", f"{t}_canon_lines", f"select line from {t}_bad")
            good = (
                f"(select * from {typed} anti join (select line from {t}_bad where not kept) b "
                f"on b.line = {typed}._line)"
            )
            lin = _lineage(display, sniffed.content_hash, load_id)

            con.execute("begin transaction")
            try:
                earlier = _supersede(con, source, wave, display, sniffed.content_hash)
                if source == "register":
                    loaded = _insert_register(con, good, lin, t)
                elif source == "survey":
                    loaded = _insert_survey(con, good, lin, wave or "", display)
                elif source == "admin":
                    loaded = _insert_admin(con, good, lin, display)
                else:
                    loaded = _insert_context(con, good, lin)
                _refuse_shrink(display, earlier, loaded, max_shrink)
                for table, key in KEYS.get(_target_key(source, wave), ()):
                    _check_unique(con, table, key, load_id)
                _quarantine(con, report, t, rejects, source, noted > 0, canon.headers)
                report.cells_quarantined = int(bad_cells or 0)
                report.rows_read = accepted + len({r["pos"] for r in rejects})
                report.rows_loaded = loaded
                report.rows_quarantined = bad_lines + len({r["pos"] for r in rejects})
                if report.rows_read != report.rows_loaded + report.rows_quarantined:
                    raise RuntimeError(
                        f"{display}: row accounting failed: read {report.rows_read} != loaded "
                        f"{report.rows_loaded} + quarantined {report.rows_quarantined}"
                    )
                report.status = "loaded"
                report.message = "; ".join(canon.notes + sniffed.notes)
                _log(con, report, sniffed.content_hash, started)
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
            return report
    except FileRejected as exc:
        report.message = exc.problem
        _log(con, report, None, started)
        raise
    except duckdb.Error as exc:
        # Anything else DuckDB refuses about this file (its transaction is rolled back): the file
        # is rejected with the reason, the other files load.
        report.message = f"could not be loaded: {str(exc).splitlines()[0]}"
        _log(con, report, None, started)
        raise FileRejected(display, report.message) from exc


def _check_unique(con, table: str, key: str, load_id: str) -> None:
    """Refuse keys this load wrote twice or found already there, as a primary key would.

    The tables carry no primary-key index (maintaining it dominated loading at a million rows);
    this semi-join of the load's keys against the table does the same check per file.
    """
    dup = rows(
        con,
        f"""select {key} from {table}
            where {key} in (select {key} from {table} where _load_id = ?)
            group by {key} having count(*) > 1 limit 1""",
        [load_id],
    )
    if dup:
        raise duckdb.ConstraintException(
            f'Constraint Error: PRIMARY KEY or UNIQUE constraint violation: duplicate key "{dup[0][0]}" '
            f"({table}.{key})"
        )


def _supersede(con, source: str, wave: str | None, file: str, digest: str) -> int | None:
    """A file re-sent under the same name with new content replaces its earlier version.

    Returns the rows the earlier version loaded (None when there was none).
    """
    prior = rows(
        con,
        """select sum(rows_loaded) from audit.load_log
           where file = ? and status = 'loaded' and content_hash <> ? having count(*) > 0""",
        [file, digest],
    )
    if not prior:
        return None
    for table in TARGETS[_target_key(source, wave)]:
        con.execute(f"delete from {table} where _source_file = ?", [file])
    con.execute("delete from audit.quarantine where file = ?", [file])
    con.execute("delete from restricted.quarantine_records where file = ?", [file])
    con.execute(
        "update audit.load_log set status = 'superseded' where file = ? and status = 'loaded'",
        [file],
    )
    return int(prior[0][0] or 0)


def _refuse_shrink(file: str, earlier: int | None, loaded: int, max_shrink: float | None) -> None:
    """Reject a re-sent file that keeps too few of its earlier version's rows (its transaction is
    rolled back, so the earlier version stays)."""
    if earlier is None or max_shrink is None or not earlier or loaded >= earlier * (1 - max_shrink):
        return
    raise FileRejected(
        file,
        f"this version would replace the earlier one's {earlier} rows with {loaded} "
        f"({1 - loaded / earlier:.0%} fewer; at most {max_shrink:.0%} may go in a re-sent file). "
        "Nothing of it was loaded, the earlier version stays. If the smaller file is right, run "
        "again with --accept-shrink (or GRADTRACK_MAX_SHRINK=1).",
    )


def _parse(
    con: duckdb.DuckDBPyConnection, sniffed: SniffedFile, table: str, display: str, select: str | None = None
) -> tuple[int, list[dict]]:
    """read_records, with DuckDB's parse errors turned into a rejection of the whole file."""
    try:
        return read_records(con, sniffed, table, select)
    except duckdb.Error as exc:
        msg = str(exc).splitlines()[0]
        raise FileRejected(display, f"could not be parsed as CSV: {msg}") from exc


def _quarantine(
    con,
    report: FileReport,
    t: str,
    rejects: list[dict],
    source: str,
    has_bad: bool,
    headers: dict[str, str],
) -> None:
    meta = (
        f"{quote_literal(report.load_id)} as load_id, {quote_literal(source)} as source, "
        f"{quote_literal(report.file)} as file"
    )
    named = " ".join(f"when {quote_literal(c)} then {quote_literal(h)}" for c, h in headers.items())
    source_header = f"case column_name {named} end" if named else "null::varchar"
    con.execute(f"""
        insert into audit.quarantine by name
        select {meta}, line, column_name, reason, {_withheld_if_personal("value")} as value,
               current_localtimestamp() as quarantined_at,
               {source_header} as source_header, kept as row_kept
        from {t}_bad order by line, column_name""")
    if has_bad:  # the raw line, for the school to correct it: never an erased person's
        erased = quote_literal(ERASED_REASON)
        con.execute(f"""
            insert into restricted.quarantine_records
            select {quote_literal(report.load_id)}, {quote_literal(report.file)}, t._line,
                   to_json(t)::varchar
            from {t}_text t where t._line in (select line from {t}_bad where reason <> {erased})""")
    for r in rejects:
        con.execute(
            """insert into audit.quarantine
                   (load_id, source, file, line, column_name, reason, value, quarantined_at,
                    source_header, row_kept)
               values (?, ?, ?, ?, ?, ?, null, current_localtimestamp(), ?, false)""",
            [report.load_id, source, report.file, r["line"], r["column"], r["reason"], r["column"]],
        )
    for pos in sorted({r["pos"] for r in rejects}):
        r = next(x for x in rejects if x["pos"] == pos)
        con.execute(
            "insert into restricted.quarantine_records values (?, ?, ?, ?)",
            [report.load_id, report.file, r["line"], r["record"]],
        )


WITHHELD = "(withheld: looks like personal data)"
_DATE_LIKE = "[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}([ T][0-9:.]+)?"


def _withheld_if_personal(value: str) -> str:
    """The quarantined value audit.quarantine shows: one that looks like an e-mail address, a phone
    or an identity number (six digits or more, dates aside) is withheld. Personal columns are never
    copied, but a row shifted by one column puts an e-mail into any column, and `audit` reaches the
    analysts; the raw line stays in restricted.quarantine_records."""
    return (
        f"case when {value} like '%@%' or (length(regexp_replace({value}, '[^0-9]', '', 'g')) >= 6 "
        f"and not regexp_full_match(trim({value}), '{_DATE_LIKE}')) then {quote_literal(WITHHELD)} "
        f"else {value} end"
    )


def _log(con, report: FileReport, digest: str | None, started) -> None:
    con.execute(
        """insert into audit.load_log
               (load_id, source, wave, file, content_hash, encoding, delimiter, adapter, rows_read,
                rows_loaded, rows_quarantined, status, message, started_at, finished_at,
                cells_quarantined)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_localtimestamp(), ?)""",
        [
            report.load_id,
            report.source,
            report.wave,
            report.file,
            digest,
            report.encoding,
            report.delimiter,
            report.adapter,
            report.rows_read,
            report.rows_loaded,
            report.rows_quarantined,
            report.status,
            report.message,
            started,
            report.cells_quarantined,
        ],
    )


# --- a folder -----------------------------------------------------------------------------------


LANDED_SUFFIXES = tuple(s + z for z in ("", ".gz") for s in (".csv", ".tsv", ".txt"))
# Read with the data file they sit beside (a mapping, a LimeSurvey survey structure).
COMPANION_SUFFIXES = (".yaml", ".yml", ".lss")
FOLDERS = "register/, surveys/pre_graduation/, surveys/m6/, surveys/m18/, admin/, context/"


def place(relative: str) -> tuple[str, str | None] | None:
    """(source, wave) of a landing path like `surveys/m6/x.csv`; None for anything else."""
    parts = relative.split("/")
    if not relative.lower().endswith(LANDED_SUFFIXES) or parts[-1].startswith("."):
        return None
    if len(parts) == 2 and parts[0] in SOURCES and parts[0] != "survey":
        return parts[0], None
    if len(parts) == 3 and parts[0] == "surveys" and parts[1] in WAVES:
        return "survey", parts[1]
    return None


def _inside(path: Path, landing: Path) -> bool:
    """False for a link that leads out of the landing folder (its target is not the school's file)."""
    return path.resolve().is_relative_to(landing.resolve())


def landing_files(landing: Path, source: str, wave: str | None = None) -> list[tuple[Path, str]]:
    """The files of one source (and wave) in the landing folder, in a stable order."""
    folder = landing / (f"surveys/{wave}" if source == "survey" else source)
    if not folder.is_dir():
        return []
    found = []
    for p in sorted(folder.iterdir()):
        relative = p.relative_to(landing).as_posix()
        if p.is_file() and place(relative) == (source, wave) and _inside(p, landing):
            found.append((p, relative))
    return found


def _why_ignored(relative: str, path: Path, landing: Path) -> str | None:
    """Why a file under the landing folder is not read (None: it is read, or read with its data file)."""
    parts = relative.split("/")
    known = parts[0] in ("register", "admin", "context") and len(parts) == 2
    known |= len(parts) == 3 and parts[0] == "surveys" and parts[1] in WAVES
    if place(relative) is not None:
        return None if _inside(path, landing) else "a link to a file outside the landing folder: not followed"
    if known and relative.lower().endswith(COMPANION_SUFFIXES):
        return None
    if known:
        if parts[-1].startswith("."):
            return "hidden file"
        return "not a data file gradtrack reads (.csv, .tsv or .txt, each optionally .gz)"
    if len(parts) == 1:
        return f"not inside a source folder ({FOLDERS})"
    top = parts[0]
    if top.lower() in ("register", "admin", "context", "surveys") and top != top.lower():
        return f"folder {top}/ is not {top.lower()}/ (folder names are lower case)"
    if top == "surveys":
        if len(parts) == 2:
            return "directly in surveys/: put it in the folder of its wave (pre_graduation, m6 or m18)"
        if parts[1] not in WAVES:
            return f"surveys/{parts[1]}/ is not a wave folder (pre_graduation, m6, m18; lower case)"
        return f"in a subfolder of surveys/{parts[1]}/: only files directly in it are read"
    if top in ("register", "admin", "context"):
        return f"in a subfolder of {top}/: only files directly in it are read"
    return f"folder {top}/ is not a source folder ({FOLDERS})"


def ignored_files(landing: Path) -> list[tuple[str, str]]:
    """(path, reason) of every file under the landing folder that no source reads: said aloud, so
    that a misnamed folder or an unsupported format never passes unnoticed."""
    found = []
    for path in sorted(landing.rglob("*")):
        if path.is_dir():
            continue
        relative = path.relative_to(landing).as_posix()
        why = _why_ignored(relative, path, landing) if path.is_file() else "not a regular file"
        if why:
            found.append((relative, why))
    return found


def log_ignored(con: duckdb.DuckDBPyConnection, landing: Path) -> list[tuple[str, str]]:
    """Record this run's ignored files in audit.load_log (status `ignored`, source `landing`)."""
    ensure_schema(con)
    found = ignored_files(landing)
    for relative, why in found:
        report = FileReport(source="landing", file=relative, status="ignored", message=why)
        report.load_id = str(uuid.uuid4())
        _log(con, report, None, scalar(con, "select current_localtimestamp()"))
    return found


def load_source(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    source: str,
    key: PseudonymKey,
    *,
    wave: str | None = None,
    cohorts: Sequence[int] | None = None,
    raise_on_failure: bool = True,
    max_shrink: float | None = DEFAULT_MAX_SHRINK,
) -> list[FileReport]:
    """Load every file of one source (one wave for surveys). Failed files are reported together.

    `cohorts` restricts register and survey files to those with rows of these cohorts (a cohort
    partition's run); admin and context files span cohorts and always load.
    """
    if source == "survey" and wave not in WAVES:
        raise ValueError(f"survey wave must be one of {WAVES}, got {wave!r}")
    ensure_schema(con)
    remove_stale_copies()  # decoded copies of landing files a killed run left behind
    key.check(con)  # a warehouse built with another key is refused before anything is written
    key.install(con)
    reports: list[FileReport] = []
    files = landing_files(landing, source, wave)
    # Reading, hashing, decoding and line-scanning a file is Python work: it runs for the next file
    # in a background thread while DuckDB loads the current one (DuckDB releases the GIL).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gradtrack-prepare") as pool:
        following = pool.submit(prepare, *files[0]) if files else None
        for i, (path, display) in enumerate(files):
            current = following
            following = pool.submit(prepare, *files[i + 1]) if i + 1 < len(files) else None
            try:
                reports.append(
                    load_file(
                        con,
                        path,
                        display,
                        source,
                        wave=wave,
                        cohorts=cohorts,
                        prepared=current,
                        max_shrink=max_shrink,
                    )
                )
            except FileRejected as exc:
                reports.append(
                    FileReport(source=source, file=display, status="rejected", wave=wave, message=exc.problem)
                )
            except Exception as exc:  # one file's unforeseen failure never stops the others
                first_line = (str(exc).splitlines() or [""])[0]
                report = FileReport(
                    source=source,
                    file=display,
                    status="rejected",
                    wave=wave,
                    load_id=str(uuid.uuid4()),
                    message=f"could not be read ({type(exc).__name__}: {first_line})",
                )
                _log(con, report, None, scalar(con, "select current_localtimestamp()"))
                reports.append(report)
    if raise_on_failure and any(r.status == "rejected" for r in reports):
        raise LoadError(reports)
    return reports


def load_landing(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    key: PseudonymKey,
    *,
    cohorts: Sequence[int] | None = None,
    raise_on_failure: bool = True,
    max_shrink: float | None = DEFAULT_MAX_SHRINK,
) -> list[FileReport]:
    """Everything in the landing folder, in dependency order (register first)."""
    reports: list[FileReport] = []
    plan: Iterable[tuple[str, str | None]] = [
        ("register", None),
        *[("survey", w) for w in WAVES],
        ("admin", None),
        ("context", None),
    ]
    for source, wave in plan:
        reports += load_source(
            con,
            landing,
            source,
            key,
            wave=wave,
            cohorts=cohorts,
            raise_on_failure=False,
            max_shrink=max_shrink,
        )
    if raise_on_failure and any(r.status == "rejected" for r in reports):
        raise LoadError(reports)
    return reports
