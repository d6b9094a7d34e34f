"""The yardstick for `make bench`: the core of gradtrack's job as one plain DuckDB script.

What an expert would write by hand to get the headline figures out of a landing folder, with no
orchestration, no quarantine, no pseudonyms, no checks and no reports: load the register, the three
survey waves and the admin spells (the files as the sample generator writes them: UTF-8 or Latin-1,
`,` or `;`, ISO or DD/MM/YYYY dates, LimeSurvey exports with their mapping file, SEPE contract keys),
link responses to graduates by student id and school, keep the latest complete response per graduate
and wave, take the admin status at the 6- and 18-month reference dates, and compute a dozen core
indicators over the breakdowns with GROUPING SETS. `gradtrack run` must stay within 3x its CPU time.

    python bench/baseline.py LANDING OUT.duckdb
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb
import yaml

from ingestion.limesurvey import mapping_from_structure, normalised_header, read_structure

WAVES = ("pre_graduation", "m6", "m18")
BREAKDOWNS = {
    "school": "school_code",
    "country": "country",
    "region": "region",
    "sector_group": "sector_group",
    "professional_family": "professional_family",
    "qualification": "qualification_code",
    "eqf_level": "cast(eqf_level as varchar)",
    "sex": "sex",
}


def _encoding(path: Path) -> str:
    head = path.read_bytes()[: 1 << 20]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def _csv(path: Path) -> str:
    return (
        f"read_csv('{path}', all_varchar = true, header = true, encoding = '{_encoding(path)}', "
        "null_padding = true)"
    )


def _date(col: str) -> str:
    return f"coalesce(try_strptime({col}, '%Y-%m-%d'), try_strptime({col}, '%d/%m/%Y'))::date"


def _stamp(col: str) -> str:
    formats = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M"]
    return "try_strptime(" + col + ", [" + ", ".join(f"'{f}'" for f in formats) + "])"


def _survey_select(path: Path) -> str:
    """One survey file as (student_id, school_code, started_at, submitted_at, status, answers)."""
    mapping = path.with_suffix(".yaml")
    if not mapping.exists():
        cols = "student_id, school_code, started_at, submitted_at"
        items = (
            "plan_after_graduation",
            "current_status",
            "job_related_to_qualification",
            "contract_type",
            "working_time",
        )
        present = duckdb.sql(f"select * from {_csv(path)} limit 0").columns
        extra = ", ".join(f'"{c}"' if c in present else f"null as {c}" for c in items)
        return f"select {cols}, {extra} from {_csv(path)}"
    spec = yaml.safe_load(mapping.read_text())
    if path.with_suffix(".lss").exists():  # LimeSurvey: headings and answers resolved via its .lss
        raw_header = duckdb.sql(f"select * from {_csv(path)} limit 0").columns
        structure = read_structure(path.with_suffix(".lss"), path.name)
        spec = mapping_from_structure(
            structure, normalised_header(raw_header), raw_header, spec, path.name, spec.get("wave")
        )
    back = {v: k for k, v in spec["columns"].items()}
    const = spec.get("constants", {})

    def item(name: str) -> str:
        if name not in back:
            return f"null as {name}"
        codes = spec.get("values", {}).get(name)
        if not codes:
            return f'"{back[name]}" as {name}'
        cases = " ".join(f"when '{k}' then '{v}'" for k, v in codes.items())
        return f'case "{back[name]}" {cases} end as {name}'

    school = f"'{const['school_code']}'" if "school_code" in const else f'"{back["school_code"]}"'
    parts = [
        f'"{back["student_id"]}" as student_id',
        f"{school} as school_code",
        f'"{back["started_at"]}" as started_at',
        f'"{back["submitted_at"]}" as submitted_at',
        *(
            item(n)
            for n in (
                "plan_after_graduation",
                "current_status",
                "job_related_to_qualification",
                "contract_type",
                "working_time",
            )
        ),
    ]
    return f"select {', '.join(parts)} from {_csv(path)}"


def run(landing: Path, out: Path) -> dict[str, int]:
    out.unlink(missing_ok=True)
    con = duckdb.connect(str(out))
    register = " union all by name ".join(
        f"select * from {_csv(p)}" for p in sorted(landing.glob("register/*.csv"))
    )
    con.execute(f"""
        create table register as
        select student_id, school_code, country, region, national_id, sex, qualification_code,
               try_cast(eqf_level as integer) as eqf_level, professional_family, sector_group,
               try_cast(cohort as integer) as cohort, {_date("graduation_date")} as graduation_date
        from ({register})
    """)
    for wave in WAVES:
        files = sorted((landing / "surveys" / wave).glob("*.csv"))
        body = " union all by name ".join(_survey_select(p) for p in files)
        con.execute(f"""
            create table survey_{wave} as
            with typed as (
                select *, {_stamp("started_at")} as started, {_stamp("submitted_at")} as submitted
                from ({body})
            )
            select g.student_id, g.school_code, g.cohort, t.* exclude (student_id, school_code)
            from typed as t
            join register as g using (student_id, school_code)
            where t.submitted is not null
            qualify row_number() over (partition by g.student_id, g.school_code order by t.submitted desc) = 1
        """)
    spells = []
    for path in sorted(landing.glob("admin/*.csv")):
        cols = duckdb.sql(f"select * from {_csv(path)} limit 0").columns
        if "contract_key" in cols:  # SEPE keys (Spanish TGSS)
            contract = """case when regime = 'RETA' then 'self_employed'
                when contract_key in ('420', '421', '520', '521') then 'apprenticeship'
                when left(contract_key, 1) in ('1', '2', '3') then 'permanent'
                else 'temporary' end"""
        else:
            contract = "contract_type"
        spells.append(
            f"select national_id, {_date('spell_start')} as spell_start, {_date('spell_end')} as spell_end, "
            f"{contract} as contract_type, "
            f"try_cast(replace(part_time_pct, ',', '.') as double) as part_time_pct from {_csv(path)}"
        )
    con.execute(f"create table spells as {' union all '.join(spells)}")
    con.execute("""
        create table outcomes as
        with refs as (
            select g.*, w.wave, g.graduation_date + (w.months * interval 1 month) as ref_date
            from register as g
            cross join (values ('m6', 6), ('m18', 18)) as w(wave, months)
        ),
        admin as (
            select r.student_id, r.school_code, r.wave,
                   arg_max(s.contract_type, coalesce(s.spell_end, date '9999-12-31') - s.spell_start)
                       as contract_type
            from refs as r
            join spells as s
              on s.national_id = r.national_id and s.spell_start <= r.ref_date
             and (s.spell_end is null or s.spell_end >= r.ref_date)
            group by all
        ),
        survey as (
            select student_id, school_code, 'm6' as wave, current_status, job_related_to_qualification,
                   contract_type, working_time from survey_m6
            union all
            select student_id, school_code, 'm18', current_status, job_related_to_qualification,
                   contract_type, working_time from survey_m18
        )
        select r.*, s.current_status, s.job_related_to_qualification,
               s.contract_type as survey_contract, s.working_time,
               r.national_id is not null and r.national_id <> '' as admin_covered,
               a.student_id is not null as admin_employed, a.contract_type as admin_contract
        from refs as r
        left join survey as s using (student_id, school_code, wave)
        left join admin as a using (student_id, school_code, wave)
    """)
    sets = ", ".join(["(cohort, wave)"] + [f"(cohort, wave, {c})" for c in BREAKDOWNS.values()])
    label = (
        "case "
        + " ".join(f"when grouping({c}) = 0 then '{b}'" for b, c in BREAKDOWNS.items())
        + " else 'total' end"
    )
    value = "coalesce(" + ", ".join(f"cast({c} as varchar)" for c in BREAKDOWNS.values()) + ", 'all')"
    employed = "current_status in ('work', 'work_and_study', 'self_employed')"
    working = "current_status in ('work', 'work_and_study')"
    con.execute(f"""
        create table indicators as
        with g as (
            select cohort, wave, {label} as breakdown, {value} as breakdown_value,
                count(*) as graduates,
                count(current_status) as respondents,
                count(*) filter (where {employed}) as employed,
                count(*) filter (where current_status = 'work') as work,
                count(*) filter (where current_status = 'further_studies') as further_studies,
                count(*) filter (where current_status = 'unemployed') as unemployed,
                count(*) filter (where {working}) as working,
                count(*) filter (where {working} and job_related_to_qualification = 'yes') as related,
                count(*) filter (where {working} and survey_contract = 'permanent') as permanent,
                count(*) filter (where {working} and working_time = 'part_time') as part_time,
                count(*) filter (where admin_covered) as covered,
                count(*) filter (where admin_employed) as admin_employed,
                count(*) filter (where admin_contract = 'permanent') as admin_permanent,
                count(*) filter (where ({employed}) or (current_status is null and admin_employed))
                    as combined_employed
            from outcomes
            {"group by grouping sets (" + sets + ")"}
        )
        select cohort, wave, indicator, breakdown, breakdown_value, numerator, denominator,
               numerator / nullif(denominator, 0) as value
        from g, lateral (
            select * from (values
                ('response_rate', respondents, graduates),
                ('employed_share', employed, respondents),
                ('status_work', work, respondents),
                ('status_further_studies', further_studies, respondents),
                ('status_unemployed', unemployed, respondents),
                ('job_related_to_qualification', related, working),
                ('permanent_contract_share', permanent, working),
                ('part_time_share', part_time, working),
                ('eqavet5b_admin', admin_employed, covered),
                ('admin_permanent_share', admin_permanent, admin_employed),
                ('eqavet5b_combined', combined_employed, graduates)
            ) as v(indicator, numerator, denominator)
        )
    """)
    counts = {
        t: con.execute(f"select count(*) from {t}").fetchone()[0]
        for t in ("register", "survey_pre_graduation", "survey_m6", "survey_m18", "spells", "indicators")
    }
    con.close()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("landing", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    started = time.perf_counter()
    counts = run(args.landing, args.out)
    print(f"baseline: {counts} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
