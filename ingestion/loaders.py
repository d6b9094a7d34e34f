"""Load the landing folder into the warehouse: one transaction per file, every row accounted for.

For each file: sniff encoding/delimiter, parse with DuckDB, adapt to canonical columns, validate,
then in one transaction write the good rows (pseudonymised) to `raw`, the identifiers linkage needs
to `restricted`, the bad rows to `audit.quarantine`, and a row to `audit.load_log`. A file that
cannot be read at all raises `FileRejected` and leaves nothing behind but its failed log row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from ingestion.adapters import Canonical, canonical_select, load_mapping, mapped_select
from ingestion.contract import (
    ADMIN,
    CONTEXT,
    ES_TGSS,
    REGISTER,
    SURVEY,
    WAVE_OFFSET_MONTHS,
    WAVES,
    FileSpec,
)
from ingestion.csvfile import FileRejected, SniffedFile, read_records, sniff
from ingestion.db import quote_literal, rows, scalar
from ingestion.pseudonym import PseudonymKey
from ingestion.validate import build_typed, violation_selects
from ingestion.warehouse import TARGETS, ensure_schema

SOURCES = ("register", "survey", "admin", "context")


@dataclass
class FileReport:
    """What happened to one landing file; the numbers users see in the run summary."""

    source: str
    file: str
    status: str  # loaded | skipped_duplicate | failed
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    wave: str | None = None
    adapter: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    message: str = ""
    load_id: str = ""
    cohorts: tuple[int, ...] = ()  # cohorts of the file's rows (register and surveys)

    def as_dict(self) -> dict:
        return asdict(self)


class LoadError(RuntimeError):
    """One or more landing files could not be read; the others were loaded."""

    def __init__(self, reports: list[FileReport]) -> None:
        failed = [r for r in reports if r.status == "failed"]
        super().__init__("Could not load: " + "; ".join(f"{r.file}: {r.message}" for r in failed))
        self.reports = reports


# --- what each source writes ------------------------------------------------------------------

NAME_NORM = "nullif(trim(regexp_replace(lower(strip_accents({c})), '[^a-z ]+', ' ', 'g')), '')"


def _name_norm(col: str) -> str:
    return "nullif(regexp_replace(" + NAME_NORM.format(c=col) + ", ' +', ' ', 'g'), '')"


def _id_norm(col: str) -> str:
    return f"nullif(upper(regexp_replace({col}, '[\\s.\\-/]', '', 'g')), '')"


def _lineage(file: str, digest: str, load_id: str) -> str:
    return (
        f"{quote_literal(file)} as _source_file, {quote_literal(digest)} as _source_hash, "
        f"_line as _source_line, {quote_literal(load_id)} as _load_id, "
        f"current_localtimestamp() as _loaded_at"
    )


def _register_checks(typed: str, file: str) -> list[str]:
    """Duplicate graduates: within the file, and against what other files already loaded."""
    return [
        f"""select _line, 'student_id', 'duplicate student_id in school '
                   || school_code || ' (first at line ' || first_line || ')', null
            from (select _line, upper(school_code) as school_code,
                         min(_line) over (partition by upper(school_code), student_id) first_line
                  from {typed} where student_id is not null and school_code is not null)
            where _line > first_line""",
        f"""select t._line, 'student_id', 'student_id already in the register from '
                   || r._source_file || ' line ' || r._source_line, null
            from {typed} t join restricted.register_identifiers r
              on r.school_code = upper(t.school_code) and r.student_id = t.student_id
            where r._source_file <> {quote_literal(file)}""",
    ]


def _survey_checks(typed: str) -> list[str]:
    return [
        f"""select _line, 'response_id', 'duplicate response_id in the file (first at line '
                   || first_line || ')', response_id
            from (select _line, response_id,
                         min(_line) over (partition by response_id) first_line from {typed})
            where _line > first_line""",
        f"""select _line, 'submitted_at', 'submitted_at is before started_at',
                   strftime(submitted_at, '%Y-%m-%d %H:%M:%S')
            from {typed} where submitted_at < started_at""",
    ]


def _admin_checks(typed: str, tgss: bool) -> list[str]:
    checks = [
        f"""select _line, 'spell_end', 'spell_end is before spell_start',
                   strftime(spell_end, '%Y-%m-%d')
            from {typed} where spell_end < spell_start"""
    ]
    if tgss:
        checks += [
            f"""select _line, 'regime', 'unknown TGSS regime (expected RG or RETA)', regime
                from {typed} where upper(regime) not in ('RG', 'RETA')""",
            f"""select _line, 'contract_key',
                       'unknown SEPE contract key (expected 1xx-5xx, three digits)', contract_key
                from {typed}
                where upper(regime) = 'RG'
                  and (contract_key is null or not regexp_full_match(contract_key, '[1-5][0-9]{{2}}'))""",
        ]
    return checks


def _insert_register(con, typed: str, ok: str, lin: str) -> None:
    con.execute(f"""
        insert into raw.register by name
        select pseudonym('graduate', upper(school_code) || '|' || student_id) as graduate_key,
               pseudonym('person', {_id_norm("national_id")}) as person_key,
               upper(school_code) as school_code, school_name, upper(country) as country,
               upper(region) as region, sex, qualification_code, qualification_name,
               eqf_level::integer as eqf_level, professional_family, sector_group, cohort,
               graduation_date, language, year(birth_date) as birth_year, {lin}
        from {typed} where {ok}""")
    con.execute(f"""
        insert into restricted.register_identifiers by name
        select pseudonym('graduate', upper(school_code) || '|' || student_id) as graduate_key,
               upper(school_code) as school_code, cohort, student_id,
               {_id_norm("national_id")} as national_id, token,
               first_name, last_name,
               {_name_norm("first_name")} as first_name_norm,
               {_name_norm("last_name")} as last_name_norm, birth_date,
               nullif(lower(trim(email)), '') as email_norm,
               nullif(regexp_replace(phone, '[^0-9]', '', 'g'), '') as phone_norm, {lin}
        from {typed} where {ok}""")


def _insert_survey(con, typed: str, ok: str, lin: str, wave: str, file: str) -> None:
    key = f"md5({quote_literal(wave + '|' + file + '|')} || response_id)"
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
    con.execute(f"""
        insert into raw.survey_{wave} by name
        select {key} as response_key, {quote_literal(wave)} as wave, response_id,
               upper(school_code) as school_code, started_at, submitted_at,
               submitted_at is not null as is_complete,
               case when submitted_at is not null and started_at is not null
                    then epoch(submitted_at - started_at) / 60.0 end as minutes_to_complete,
               language, {", ".join(items)}, {lin}
        from {typed} where {ok}""")
    con.execute(f"""
        insert into restricted.survey_identifiers by name
        select {key} as response_key, {quote_literal(wave)} as wave,
               upper(school_code) as school_code, trim(token) as token, student_id,
               {_id_norm("national_id")} as national_id,
               {_name_norm("first_name")} as first_name_norm,
               {_name_norm("last_name")} as last_name_norm, birth_date,
               nullif(lower(trim(email)), '') as email_norm, {lin}
        from {typed} where {ok}""")


def _insert_admin(con, typed: str, ok: str, lin: str, file: str, tgss: bool) -> None:
    if tgss:
        # SEPE keys: 1xx-3xx permanent, 4xx-5xx temporary; the training contracts (420/520
        # prácticas, 421/521 formación y aprendizaje) are the contract's `apprenticeship`.
        contract = """case when upper(regime) = 'RETA' then 'self_employed'
                           when contract_key in ('420', '421', '520', '521') then 'apprenticeship'
                           when left(contract_key, 1) in ('1', '2', '3') then 'permanent'
                           else 'temporary' end"""
        source_code = "coalesce(contract_key, upper(regime))"
        part_time = (
            "coalesce(left(contract_key, 1) in ('2', '5'), false) or coalesce(part_time_pct, 100) < 100"
        )
    else:
        contract, source_code = "contract_type", "null"
        part_time = "coalesce(part_time_pct, 100) < 100"
    con.execute(f"""
        insert into raw.employment_spells by name
        select md5({quote_literal(file + "|")} || _line) as spell_key,
               pseudonym('person', {_id_norm("national_id")}) as person_key,
               pseudonym('employer', nullif(trim(employer_id), '')) as employer_key,
               spell_start, spell_end, {contract} as contract_type,
               {source_code} as source_contract_code, part_time_pct,
               {part_time} as is_part_time, nace_section, monthly_earnings,
               lower(source) as source, extracted_on, {lin}
        from {typed} where {ok}""")


def _insert_context(con, typed: str, ok: str, lin: str) -> None:
    con.execute(f"""
        insert into raw.context_indicators by name
        select upper(region) as region, year, indicator, value, source, {lin}
        from {typed} where {ok}""")


# --- one file -----------------------------------------------------------------------------------


def _adapt(source: str, sniffed: SniffedFile, table: str, wave: str | None) -> tuple[FileSpec, Canonical]:
    if source == "register":
        return REGISTER, canonical_select(REGISTER, sniffed.header, table, sniffed.display)
    if source == "survey":
        mapping_path = sniffed.path.with_suffix(".yaml")
        if not mapping_path.exists():
            mapping_path = sniffed.path.with_suffix(".yml")
        if mapping_path.exists():
            mapping = load_mapping(mapping_path, sniffed.display)
            return SURVEY, mapped_select(SURVEY, sniffed.header, table, sniffed.display, mapping, wave)
        return SURVEY, canonical_select(SURVEY, sniffed.header, table, sniffed.display)
    if source == "admin":
        if "contract_key" in sniffed.header or "regime" in sniffed.header:
            canon = canonical_select(ES_TGSS, sniffed.header, table, sniffed.display)
            canon.adapter = "es_tgss"
            return ES_TGSS, canon
        return ADMIN, canonical_select(ADMIN, sniffed.header, table, sniffed.display)
    if source == "context":
        return CONTEXT, canonical_select(CONTEXT, sniffed.header, table, sniffed.display)
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
        return f"year(coalesce(started_at, submitted_at) - interval {months} month)"
    return None


def _target_key(source: str, wave: str | None) -> str:
    return f"survey_{wave}" if source == "survey" else source


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    display: str,
    source: str,
    *,
    wave: str | None = None,
    cohorts: Sequence[int] | None = None,
) -> FileReport:
    """Load one file in one transaction. Raises FileRejected when the file as a whole is unreadable.

    With `cohorts`, a register or survey file none of whose rows belong to those cohorts is left
    for its own cohort's run (status `other_cohort`, nothing logged); a file that has rows of a
    requested cohort is loaded whole.
    """
    load_id = str(uuid.uuid4())
    report = FileReport(source=source, file=display, status="failed", wave=wave, load_id=load_id)
    started = scalar(con, "select current_localtimestamp()")
    try:
        with sniff(path, display) as sniffed:
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
            try:
                accepted, rejects = read_records(con, sniffed, f"{t}_text")
            except duckdb.Error as exc:
                msg = str(exc).splitlines()[0]
                raise FileRejected(display, f"could not be parsed as CSV: {msg}") from exc
            spec, canon = _adapt(source, sniffed, f"{t}_text", wave)
            report.adapter = canon.adapter
            con.execute(f"create or replace temp table {t}_canon as {canon.sql}")
            con.execute(build_typed(spec, f"{t}_canon", f"{t}_typed"))
            typed = f"{t}_typed"
            cohort_sql = _cohort_expr(source, wave)
            if cohort_sql:
                found = rows(
                    con,
                    f"select distinct {cohort_sql} as c from {typed} where c is not null order by c",
                )
                report.cohorts = tuple(int(r[0]) for r in found)
                if cohorts is not None and not set(report.cohorts) & set(cohorts):
                    report.status = "other_cohort"
                    report.message = f"rows of cohort(s) {list(report.cohorts)}"
                    return report
            checks = violation_selects(spec, typed)
            if source == "register":
                checks += _register_checks(typed, display)
            elif source == "survey":
                checks += _survey_checks(typed)
            elif source == "admin":
                checks += _admin_checks(typed, canon.adapter == "es_tgss")
            con.execute(
                f"create or replace temp table {t}_bad (line bigint, column_name varchar, "
                "reason varchar, value varchar)"
            )
            con.execute(f"insert into {t}_bad " + " union all ".join(checks))
            bad_lines = scalar(con, f"select count(distinct line) from {t}_bad")
            ok = f"_line not in (select line from {t}_bad)"
            lin = _lineage(display, sniffed.content_hash, load_id)

            con.execute("begin transaction")
            try:
                _supersede(con, source, wave, display, sniffed.content_hash)
                if source == "register":
                    _insert_register(con, typed, ok, lin)
                elif source == "survey":
                    _insert_survey(con, typed, ok, lin, wave or "", display)
                elif source == "admin":
                    _insert_admin(con, typed, ok, lin, display, canon.adapter == "es_tgss")
                else:
                    _insert_context(con, typed, ok, lin)
                _quarantine(con, report, t, rejects, source)
                loaded = sum(
                    scalar(con, f"select count(*) from {tbl} where _load_id = ?", [load_id])
                    for tbl in TARGETS[_target_key(source, wave)][:1]
                )
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


def _supersede(con, source: str, wave: str | None, file: str, digest: str) -> None:
    """A file re-sent under the same name with new content replaces its earlier version."""
    prior = rows(
        con,
        "select load_id from audit.load_log where file = ? and status = 'loaded' and content_hash <> ?",
        [file, digest],
    )
    if not prior:
        return
    for table in TARGETS[_target_key(source, wave)]:
        con.execute(f"delete from {table} where _source_file = ?", [file])
    con.execute("delete from audit.quarantine where file = ?", [file])
    con.execute("delete from restricted.quarantine_records where file = ?", [file])
    con.execute(
        "update audit.load_log set status = 'superseded' where file = ? and status = 'loaded'",
        [file],
    )


def _quarantine(con, report: FileReport, t: str, rejects: list[dict], source: str) -> None:
    meta = f"{quote_literal(report.load_id)}, {quote_literal(source)}, {quote_literal(report.file)}"
    con.execute(f"""
        insert into audit.quarantine
        select {meta}, line, column_name, reason, value, current_localtimestamp()
        from {t}_bad order by line, column_name""")
    con.execute(f"""
        insert into restricted.quarantine_records
        select {quote_literal(report.load_id)}, {quote_literal(report.file)}, t._line,
               to_json(t)::varchar
        from {t}_text t where t._line in (select line from {t}_bad)""")
    for r in rejects:
        con.execute(
            "insert into audit.quarantine values (?, ?, ?, ?, ?, ?, null, current_localtimestamp())",
            [report.load_id, source, report.file, r["line"], r["column"], r["reason"]],
        )
    for pos in sorted({r["pos"] for r in rejects}):
        r = next(x for x in rejects if x["pos"] == pos)
        con.execute(
            "insert into restricted.quarantine_records values (?, ?, ?, ?)",
            [report.load_id, report.file, r["line"], r["record"]],
        )


def _log(con, report: FileReport, digest: str | None, started) -> None:
    con.execute(
        """insert into audit.load_log values
           (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_localtimestamp())""",
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
        ],
    )


# --- a folder -----------------------------------------------------------------------------------


def landing_files(landing: Path, source: str, wave: str | None = None) -> list[tuple[Path, str]]:
    """The files of one source (and wave) in the landing folder, in a stable order."""
    folder = landing / (f"surveys/{wave}" if source == "survey" else source)
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".txt"))
    return [(p, p.relative_to(landing).as_posix()) for p in files]


def load_source(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    source: str,
    key: PseudonymKey,
    *,
    wave: str | None = None,
    cohorts: Sequence[int] | None = None,
    raise_on_failure: bool = True,
) -> list[FileReport]:
    """Load every file of one source (one wave for surveys). Failed files are reported together.

    `cohorts` restricts register and survey files to those with rows of these cohorts (a cohort
    partition's run); admin and context files span cohorts and always load.
    """
    if source == "survey" and wave not in WAVES:
        raise ValueError(f"survey wave must be one of {WAVES}, got {wave!r}")
    ensure_schema(con)
    key.install(con)
    reports: list[FileReport] = []
    for path, display in landing_files(landing, source, wave):
        try:
            reports.append(load_file(con, path, display, source, wave=wave, cohorts=cohorts))
        except FileRejected as exc:
            reports.append(
                FileReport(source=source, file=display, status="failed", wave=wave, message=exc.problem)
            )
    if raise_on_failure and any(r.status == "failed" for r in reports):
        raise LoadError(reports)
    return reports


def load_landing(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    key: PseudonymKey,
    *,
    cohorts: Sequence[int] | None = None,
    raise_on_failure: bool = True,
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
        reports += load_source(con, landing, source, key, wave=wave, cohorts=cohorts, raise_on_failure=False)
    if raise_on_failure and any(r.status == "failed" for r in reports):
        raise LoadError(reports)
    return reports
