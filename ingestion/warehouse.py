"""DDL of the tables ingestion writes (see docs/warehouse.md).

Created explicitly, not inferred from the first file, so an analyst sees stable types even before
any row arrives, and dbt sources always exist.
"""

from __future__ import annotations

import duckdb

LINEAGE = """
    _source_file varchar not null,
    _source_hash varchar not null,
    _source_line bigint,
    _load_id varchar not null,
    _loaded_at timestamp not null
"""

SURVEY_COLUMNS = """
    response_key varchar not null,
    wave varchar not null,
    response_id varchar not null,
    school_code varchar,
    started_at timestamp,
    submitted_at timestamp,
    is_complete boolean not null,
    minutes_to_complete double,
    language varchar,
    relevant_skills varchar,
    wish_learned_more varchar,
    alumni_contribution varchar,
    plan_after_graduation varchar,
    prior_work_experience varchar,
    perceived_opportunities_region integer,
    perceived_opportunities_sector integer,
    alumni_contact_consent varchar,
    current_status varchar,
    months_to_first_job varchar,
    job_found_via varchar,
    job_related_to_qualification varchar,
    contract_type varchar,
    working_time varchar,
    unpaid_extra_hours varchar,
    monthly_net_wage_band varchar,
    job_seeking_while_employed varchar,
    study_level varchar,
    study_related_to_qualification varchar,
    unemployment_reasons varchar,
    had_job_since_graduation varchar,
    expectations_met varchar,
"""

DDL = [
    "create schema if not exists raw",
    "create schema if not exists restricted",
    "create schema if not exists audit",
    f"""create table if not exists raw.register (
        graduate_key varchar not null,
        person_key varchar,
        school_code varchar not null,
        school_name varchar,
        country varchar not null,
        region varchar,
        sex varchar not null,
        qualification_code varchar not null,
        qualification_name varchar,
        eqf_level integer not null,
        professional_family varchar not null,
        sector_group varchar not null,
        cohort integer not null,
        graduation_date date not null,
        language varchar,
        birth_year integer,
        {LINEAGE})""",
    *[
        f"create table if not exists raw.survey_{wave} ({SURVEY_COLUMNS} {LINEAGE})"
        for wave in ("pre_graduation", "m6", "m18")
    ],
    f"""create table if not exists raw.employment_spells (
        spell_key varchar not null,
        person_key varchar not null,
        employer_key varchar,
        spell_start date not null,
        spell_end date,
        contract_type varchar not null,
        source_contract_code varchar,
        part_time_pct double,
        is_part_time boolean not null,
        nace_section varchar,
        monthly_earnings double,
        source varchar not null,
        extracted_on date not null,
        {LINEAGE})""",
    f"""create table if not exists raw.context_indicators (
        region varchar not null,
        year integer not null,
        indicator varchar not null,
        value double not null,
        source varchar,
        {LINEAGE})""",
    f"""create table if not exists restricted.register_identifiers (
        graduate_key varchar not null,
        school_code varchar not null,
        cohort integer not null,
        student_id varchar not null,
        national_id varchar,
        token varchar,
        first_name varchar,
        last_name varchar,
        first_name_norm varchar,
        last_name_norm varchar,
        birth_date date,
        email_norm varchar,
        phone_norm varchar,
        {LINEAGE})""",
    f"""create table if not exists restricted.survey_identifiers (
        response_key varchar not null,
        wave varchar not null,
        school_code varchar,
        token varchar,
        student_id varchar,
        national_id varchar,
        first_name_norm varchar,
        last_name_norm varchar,
        birth_date date,
        email_norm varchar,
        {LINEAGE})""",
    """create table if not exists restricted.quarantine_records (
        load_id varchar not null,
        file varchar not null,
        line bigint,
        record varchar)""",
    """create table if not exists audit.load_log (
        load_id varchar primary key,
        source varchar not null,
        wave varchar,
        file varchar not null,
        content_hash varchar,
        encoding varchar,
        delimiter varchar,
        adapter varchar,
        rows_read bigint,
        rows_loaded bigint,
        rows_quarantined bigint,
        status varchar not null,
        message varchar,
        started_at timestamp not null,
        finished_at timestamp)""",
    """create table if not exists audit.quarantine (
        load_id varchar not null,
        source varchar not null,
        file varchar not null,
        line bigint,
        column_name varchar,
        reason varchar not null,
        value varchar,
        quarantined_at timestamp not null)""",
    # Added after v1 (ALTER so that an existing warehouse gains them): the school's own header of
    # the column, and whether the row was loaded anyway (only that cell was unreadable: it is NULL).
    "alter table audit.quarantine add column if not exists source_header varchar",
    "alter table audit.quarantine add column if not exists row_kept boolean",
    # Cells of loaded rows that were unreadable and loaded as NULL (see audit.quarantine.row_kept).
    "alter table audit.load_log add column if not exists cells_quarantined bigint",
]

# Tables a file of each source writes, for superseding a re-sent file and for row accounting.
TARGETS: dict[str, tuple[str, ...]] = {
    "register": ("raw.register", "restricted.register_identifiers"),
    "survey_pre_graduation": ("raw.survey_pre_graduation", "restricted.survey_identifiers"),
    "survey_m6": ("raw.survey_m6", "restricted.survey_identifiers"),
    "survey_m18": ("raw.survey_m18", "restricted.survey_identifiers"),
    "admin": ("raw.employment_spells",),
    "context": ("raw.context_indicators",),
}

# Keys that must be unique, checked by the loader per file (see loaders._check_unique) instead of a
# PRIMARY KEY: maintaining ART indexes on millions of rows dominated the load time.
KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "register": (("raw.register", "graduate_key"), ("restricted.register_identifiers", "graduate_key")),
    **{
        f"survey_{wave}": (
            (f"raw.survey_{wave}", "response_key"),
            ("restricted.survey_identifiers", "response_key"),
        )
        for wave in ("pre_graduation", "m6", "m18")
    },
    "admin": (("raw.employment_spells", "spell_key"),),
}


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)
