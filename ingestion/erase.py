"""Erasure of one graduate (GDPR art. 17): every layer, a list that keeps them out, no freed page.

`erase_person` deletes the person's rows from the layers ingestion writes (`raw`, `restricted`,
`audit.quarantine`) of the run's working copy; dbt then rebuilds everything downstream from scratch,
and `rewrite_database` copies the result into a fresh file, because DuckDB reuses freed blocks but
does not wipe them: the bytes of deleted rows stay in the file until it is rewritten.

The erasure list (`restricted.erasures`) holds keyed markers only: HMACs under the warehouse key in
domains of their own (`erased-person`, `erased-graduate`, `erased-email`), equal to no pseudonym used
elsewhere. Every load consults it (`erased_checks`): a re-sent row of an erased person is quarantined
with `ERASED_REASON`, and neither its text nor its values are kept.

The identifiers given never enter Dagster's run configuration or event log: `gradtrack erase` hands
the request to the run's warehouse resource inside its own process (`request` / `take`).
"""

from __future__ import annotations

import mmap
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.db import email_norm, id_norm, quote_ident, quote_literal, rows, scalar
from ingestion.pseudonym import PseudonymKey

ERASED_REASON = "erased on request (GDPR art. 17): not loaded"
ERASURES = "restricted.erasures"
ERASURE_LOG = "audit.erasure_log"

DDL = [
    "create schema if not exists restricted",
    "create schema if not exists audit",
    f"""create table if not exists {ERASURES} (
        erasure_id varchar not null, kind varchar not null, marker varchar not null,
        erased_at timestamp not null)""",
    f"""create table if not exists {ERASURE_LOG} (
        erasure_id varchar not null, erased_at timestamp not null, table_name varchar not null,
        rows_removed bigint not null)""",
]


class NobodyToErase(LookupError):
    """No row of the warehouse belongs to the identifiers given."""


@dataclass(frozen=True)
class ErasureRequest:
    """Who to erase, and the warehouse's key (never serialised, never logged)."""

    key: PseudonymKey = field(repr=False)
    national_id: str | None = field(default=None, repr=False)
    student_id: str | None = field(default=None, repr=False)
    school: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not (self.national_id and self.national_id.strip()) and not (
            self.student_id and self.student_id.strip() and self.school and self.school.strip()
        ):
            raise ValueError("give --national-id, or --student-id with --school")


@dataclass
class Erasure:
    """What one erasure removed (no identifier: safe to print and log)."""

    erasure_id: str
    removed: dict[str, int] = field(default_factory=dict)
    # The person's values, to prove afterwards that no file holds them; never printed or stored.
    values: tuple[str, ...] = field(default=(), repr=False)

    @property
    def total(self) -> int:
        return sum(self.removed.values())


_PENDING: dict[Path, ErasureRequest] = {}
_DONE: dict[Path, Erasure] = {}


def request(warehouse: Path, erasure: ErasureRequest) -> None:
    """Ask the next run on `warehouse` in this process to erase first (`gradtrack erase`)."""
    _PENDING[warehouse.resolve()] = erasure


def take(warehouse: Path) -> ErasureRequest | None:
    """The erasure asked for this warehouse, once (the run's warehouse resource calls it)."""
    return _PENDING.pop(warehouse.resolve(), None)


def record_done(warehouse: Path, erasure: Erasure) -> None:
    _DONE[warehouse.resolve()] = erasure


def done(warehouse: Path) -> Erasure | None:
    """What the last run in this process erased from `warehouse` (for the CLI's summary)."""
    return _DONE.pop(warehouse.resolve(), None)


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        scalar(
            con,
            """select count(*) from information_schema.tables
               where table_catalog = current_database() and table_schema = ? and table_name = ?""",
            [schema, table],
        )
    )


def _select_person(con: duckdb.DuckDBPyConnection, req: ErasureRequest) -> None:
    """Temp tables of the person's register rows, keys, e-mails and survey responses."""
    nid = scalar(con, f"select {id_norm('?::varchar')}", [req.national_id]) if req.national_id else None
    school = req.school.strip().upper() if req.school else None
    sid = req.student_id.strip() if req.student_id else None
    con.execute(
        """create or replace temp table erase_grads as
           select graduate_key, school_code, student_id, national_id, token, email_norm, phone_norm,
                  first_name, last_name, first_name_norm, last_name_norm
           from restricted.register_identifiers
           where (?::varchar is not null and national_id = ?::varchar)
              or (school_code = ?::varchar and student_id = ?::varchar)""",
        [nid, nid, school, sid],
    )
    if sid and school:  # their survey answers and register rows even when the register lost them
        con.execute(
            """insert into erase_grads (graduate_key, school_code, student_id)
               select pseudonym('graduate', ?::varchar || '|' || ?::varchar), ?::varchar, ?::varchar""",
            [school, sid, school, sid],
        )
    con.execute(
        """create or replace temp table erase_nids as
           select distinct v from (select national_id as v from erase_grads union all select ?::varchar)
           where v is not null""",
        [nid],
    )
    con.execute(
        """create or replace temp table erase_keys as
           select distinct graduate_key as k, 'graduate' as kind from erase_grads
           union select distinct pseudonym('person', v), 'person' from erase_nids"""
    )
    con.execute(
        """create or replace temp table erase_emails as
           select distinct email_norm as v from erase_grads where email_norm is not null"""
    )
    responses = """
        select response_key from restricted.survey_identifiers s
        where s.national_id in (select v from erase_nids)
           or s.email_norm in (select v from erase_emails)
           or exists (select 1 from erase_grads g where g.school_code = s.school_code
                      and (g.student_id = s.student_id or g.token = trim(s.token)))"""
    if _exists(con, "restricted", "linkage_crosswalk"):  # links the rules above cannot see
        responses += """
        union select response_key from restricted.linkage_crosswalk
        where graduate_key in (select k from erase_keys where kind = 'graduate')"""
    con.execute(f"create or replace temp table erase_responses as {responses}")


def matches(con: duckdb.DuckDBPyConnection, req: ErasureRequest) -> int:
    """How many register rows and survey responses the identifiers match (read-only)."""
    req.key.install(con)
    _select_person(con, req)
    return int(
        scalar(
            con,
            """select (select count(*) from erase_grads where national_id is not null
                         or token is not null or email_norm is not null or first_name is not null)
                    + (select count(*) from erase_responses)""",
        )
    )


def erase_person(con: duckdb.DuckDBPyConnection, req: ErasureRequest) -> Erasure:
    """Delete one person from raw, restricted and audit; record the erasure markers and counts.

    Identified by the national id, or by student id and school code; their register rows give the
    other identifiers (national id, e-mail, tokens) that find their survey responses and spells.
    One transaction; raises `NobodyToErase` when nothing matches.
    """
    req.key.check(con)
    req.key.install(con)
    for statement in DDL:
        con.execute(statement)
    _select_person(con, req)
    erasure = Erasure(str(uuid.uuid4()))
    erasure.values = _person_values(con)
    in_responses = "response_key in (select response_key from erase_responses)"
    targets: list[tuple[str, str]] = [
        ("raw.register", "graduate_key in (select k from erase_keys where kind = 'graduate')"),
        ("raw.register", "person_key in (select k from erase_keys where kind = 'person')"),
        ("restricted.register_identifiers", "graduate_key in (select k from erase_keys)"),
        ("raw.employment_spells", "person_key in (select k from erase_keys where kind = 'person')"),
        ("restricted.survey_identifiers", in_responses),
        *[(f"raw.survey_{w}", in_responses) for w in ("pre_graduation", "m6", "m18")],
        # Quarantined lines of this person (their raw text) and values shown in the quarantine.
        (
            "restricted.quarantine_records",
            "exists (select 1 from erase_values v where contains(lower(record), lower(v.v)))",
        ),
        ("audit.quarantine", "lower(trim(value)) in (select lower(v) from erase_values)"),
    ]
    con.execute("begin transaction")
    try:
        for table, where in targets:
            schema, name = table.split(".")
            if _exists(con, schema, name):
                n = int(rows(con, f"delete from {table} where {where}")[0][0])
                erasure.removed[table] = erasure.removed.get(table, 0) + n
        if not erasure.total:
            raise NobodyToErase("no graduate, survey response or spell matches the identifiers given")
        _record(con, erasure)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return erasure


def _person_values(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """Every identifier value of the person (at least 5 characters, as stored), into temp table
    `erase_values`: what must not be left in any file."""
    con.execute(
        """create or replace temp table erase_values as
           select distinct v from (
               select national_id as v from erase_grads union all select v from erase_nids
               union all select email_norm from erase_grads union all select phone_norm from erase_grads
               union all select first_name || ' ' || last_name from erase_grads
               union all select last_name || ', ' || first_name from erase_grads
               union all select first_name_norm || ' ' || last_name_norm from erase_grads
               union all select k from erase_keys
               union all select email_norm from restricted.survey_identifiers
                   where response_key in (select response_key from erase_responses)
               union all select response_key from erase_responses
           ) where v is not null and length(v) >= 5"""
    )
    return tuple(r[0] for r in rows(con, "select v from erase_values order by v"))


def _record(con: duckdb.DuckDBPyConnection, erasure: Erasure) -> None:
    """The markers that keep the person out of later loads, and the counts (no identifier)."""
    con.execute(
        f"""insert into {ERASURES}
            select distinct ?, kind, marker, current_localtimestamp() from (
                select 'person' as kind, pseudonym('erased-person', v) as marker from erase_nids
                union all select 'graduate', pseudonym('erased-graduate', school_code || '|' || student_id)
                    from erase_grads where student_id is not null
                union all select 'email', pseudonym('erased-email', v) from erase_emails
            ) where marker is not null""",
        [erasure.erasure_id],
    )
    for table, n in sorted(erasure.removed.items()):
        con.execute(
            f"insert into {ERASURE_LOG} values (?, current_localtimestamp(), ?, ?)",
            [erasure.erasure_id, table, n],
        )


def erased_checks(con: duckdb.DuckDBPyConnection, source: str, typed: str) -> list[str]:
    """The loader's hook: SELECTs of (line, column, reason, value) for rows of erased persons in the
    typed table of a file being loaded, in the form of the loader's other checks. Empty, at no cost,
    when nobody was ever erased. The pseudonym macro must be installed on `con`."""
    if source not in ("register", "survey", "admin") or not _exists(con, "restricted", "erasures"):
        return []
    if not scalar(con, f"select count(*) from {ERASURES}"):
        return []
    columns = {r[0] for r in rows(con, f"select name from pragma_table_info({quote_literal(typed)})")}
    tests = []
    if "national_id" in columns:
        tests.append(("person", f"pseudonym('erased-person', {id_norm('t.national_id')})"))
    if {"school_code", "student_id"} <= columns:
        graduate = "upper(t.school_code) || '|' || t.student_id"
        tests.append(("graduate", f"pseudonym('erased-graduate', {graduate})"))
    if "email" in columns:
        tests.append(("email", f"pseudonym('erased-email', {email_norm('t.email')})"))
    if not tests:
        return []
    match = " or ".join(
        f"{expr} in (select marker from {ERASURES} where kind = {quote_literal(kind)})"
        for kind, expr in tests
    )
    reason = quote_literal(ERASED_REASON)
    return [f"select t._line, null::varchar, {reason}, null::varchar, false from {typed} t where {match}"]


def rewrite_database(path: Path) -> None:
    """Replace the DuckDB file `path` by a fresh copy of its contents (`COPY FROM DATABASE`):
    freed blocks, which still hold the bytes of deleted rows, are not copied."""
    fresh = path.with_name(path.name + ".rewrite")
    for leftover in (fresh, Path(f"{fresh}.wal")):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"attach {quote_literal(str(path))} as old_db (read_only)")
        con.execute(f"attach {quote_literal(str(fresh))} as new_db")
        con.execute("copy from database old_db to new_db")
        con.execute("detach new_db")
        con.execute("detach old_db")
    finally:
        con.close()
    fresh.chmod(path.stat().st_mode & 0o777)
    fresh.replace(path)


def files_holding(paths: list[Path], values: tuple[str, ...]) -> list[tuple[Path, int]]:
    """(file, how many of `values`) for every file whose bytes contain one of them, as stored, in
    lower or in upper case: the proof that an erasure left nothing behind."""
    kept = [value for value in values if len(value) >= 5]
    needles = {v.encode("utf-8") for value in kept for v in (value, value.lower(), value.upper())}
    found = []
    for path in paths:
        if not path.is_file() or not path.stat().st_size:
            continue
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            hits = sum(1 for n in needles if data.find(n) >= 0)
        if hits:
            found.append((path, hits))
    return found


def leftover_columns(con: duckdb.DuckDBPyConnection, values: tuple[str, ...]) -> list[tuple[str, int]]:
    """`schema.table.column` and rows of every text column still holding one of `values`
    (case-insensitive): checked before the rewritten warehouse replaces the live one."""
    con.execute("create or replace temp table erase_check (v varchar)")
    con.executemany("insert into erase_check values (?)", [[v.lower()] for v in values])
    columns = rows(
        con,
        """select table_schema, table_name, column_name from information_schema.columns
           where data_type = 'VARCHAR' and table_catalog = current_database()
             and table_schema not in ('information_schema', 'pg_catalog')""",
    )
    found = []
    for schema, table, column in columns:
        ref = f"{quote_ident(schema)}.{quote_ident(table)}"
        value = f"lower(trim({quote_ident(column)}))"
        n = scalar(con, f"select count(*) from {ref} where {value} in (select v from erase_check)")
        if n:
            found.append((f"{schema}.{table}.{column}", int(n)))
    con.execute("drop table erase_check")
    return found
