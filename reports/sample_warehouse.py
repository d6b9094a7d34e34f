"""A small synthetic warehouse in the shape the reports read, built in about a second.

For developing pages without running ingestion and dbt, and for the report tests. It holds
graduate-level facts (``marts.fct_graduate_outcomes``, ``marts.fct_survey_responses``), the
pseudonymised register (``raw.register`` and its staging view), fake personal identifiers in
``restricted.register_identifiers`` (so tests can check none reaches a report), context
unemployment rates, and ``marts.indicators`` / ``marts.plan_status_transitions`` computed from
those facts with the catalogue's definitions (a subset: no survey-weighted rows). One school is
tiny so that suppression and its complements show up on every page.

    .venv/bin/python -m reports.sample_warehouse build/sample.duckdb
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from ingestion.contract import POST_GRADUATION_ITEMS, SHARED_ITEMS
from reports.disclosure import STATUSES

__all__ = ["SCHOOLS", "SampleSchool", "build"]


@dataclass(frozen=True)
class SampleSchool:
    code: str
    name: str
    country: str
    region: str
    languages: tuple[str, ...]
    graduates: int
    families: tuple[tuple[str, str, int], ...]  # (family, sector_group, eqf_level)


SCHOOLS: tuple[SampleSchool, ...] = (
    SampleSchool(
        "ES-LABORAL",
        "CIFP La Laboral",
        "ES",
        "ES12",
        ("es",),
        160,
        (("Fabricación Mecánica", "industry", 5), ("Sanidad", "services", 4)),
    ),
    SampleSchool("ES-AVILES", "CIFP de Avilés", "ES", "ES12", ("es",), 120, (("Sanidad", "services", 4),)),
    SampleSchool("ES-TINY", "CIFP Pequeño", "ES", "ES12", ("es",), 3, (("Sanidad", "services", 4),)),
    SampleSchool(
        "EE-PKHK",
        "Pärnumaa Kutsehariduskeskus",
        "EE",
        "EE00",
        ("et",),
        110,
        (("Mootorliikurid", "industry", 4),),
    ),
    SampleSchool(
        "NL-ALFA", "Alfa-college", "NL", "NL11", ("nl", "en"), 140, (("Zorg en welzijn", "services", 4),)
    ),
)

FIRST_NAMES = ("Lucía", "Mario", "Kadri", "Jaan", "Sanne", "Daan", "Giulia", "Marco")
LAST_NAMES = ("García Noriega", "Fernández", "Tamm", "Kask", "de Vries", "Bakker", "Rossi", "Bianchi")
PLANS = ("work", "further_studies", "work_and_study", "self_employed", "undecided")
SKILLS = ("teamwork", "problem_solving", "communication", "technical", "digital", "languages")
WISHES = ("technical_skills", "career_guidance", "soft_skills", "job_search", "languages", "more_practice")
ALUMNI = ("mentoring", "talks", "placements", "hiring", "surveys", "none")
REASONS = ("no_experience", "few_offers", "low_pay", "qualification_mismatch", "personal", "other")
CHANNELS = ("personal_contacts", "placement_company", "school", "job_portal", "self_application", "other")
BREAKDOWNS = {
    "total": "'all'",
    "school": "school_code",
    "country": "country",
    "region": "coalesce(region, 'unknown')",
    "sector_group": "sector_group",
    "professional_family": "professional_family",
    "qualification": "qualification_code",
    "eqf_level": "cast(eqf_level as varchar)",
    "sex": "sex",
}


def _multi(rng: random.Random, codes: tuple[str, ...], k: int) -> str:
    return ";".join(sorted(rng.sample(codes, rng.randint(1, k))))


def _status(rng: random.Random, plan: str | None) -> str:
    weights = {
        "work": 38,
        "work_and_study": 9,
        "self_employed": 3,
        "further_studies": 30,
        "volunteering": 2,
        "unemployed": 15,
        "inactive": 3,
    }
    if plan in weights:
        weights[plan] += 40
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _people(
    rng: random.Random, cohorts: tuple[int, ...], schools: tuple[SampleSchool, ...]
) -> tuple[list[dict], list[dict], list[dict]]:
    """Register rows, identifier rows and one outcome row per graduate and wave."""
    register, identifiers, answers = [], [], []
    serial = 0
    for cohort in cohorts:
        for school in schools:
            for _ in range(school.graduates):
                serial += 1
                family, sector, eqf = rng.choice(school.families)
                key = f"g{serial:05d}"
                sex = rng.choices(("F", "M", "X"), weights=(46, 52, 2))[0]
                register.append(
                    {
                        "graduate_key": key,
                        "person_key": f"p{serial:05d}" if school.country != "NL" else None,
                        "school_code": school.code,
                        "school_name": school.name,
                        "country": school.country,
                        "region": school.region,
                        "sex": sex,
                        "qualification_code": f"{family[:3].upper()}{eqf}",
                        "qualification_name": f"{family} ({eqf})",
                        "eqf_level": eqf,
                        "professional_family": family,
                        "sector_group": sector,
                        "cohort": cohort,
                        "graduation_date": date(cohort, 6, 21),
                        "language": rng.choice(school.languages),
                        "birth_year": cohort - rng.randint(19, 24),
                    }
                )
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                identifiers.append(
                    {
                        "graduate_key": key,
                        "school_code": school.code,
                        "cohort": cohort,
                        "student_id": f"S{cohort}{serial:05d}",
                        "national_id": f"{rng.randint(10_000_000, 99_999_999)}{rng.choice('ABCDEFGHJK')}",
                        "first_name": first,
                        "last_name": last,
                        "email": f"{first.lower()}.{serial}@example.org",
                    }
                )
                pre = rng.random() < 0.8
                plan = rng.choice(PLANS) if pre else None
                answers.append(
                    {
                        "graduate_key": key,
                        "cohort": cohort,
                        "wave": "pre_graduation",
                        "is_respondent": pre,
                        "plan_after_graduation": plan,
                        "relevant_skills": _multi(rng, SKILLS, 3) if pre else None,
                        "wish_learned_more": _multi(rng, WISHES, 3) if pre else None,
                        "alumni_contact_consent": rng.choice(("yes", "no")) if pre else None,
                        "alumni_contribution": _multi(rng, ALUMNI, 2) if pre else None,
                        "minutes": rng.uniform(3, 14) if pre else None,
                    }
                )
                employed_admin = rng.random() < 0.6
                for wave, rate in (("m6", 0.72), ("m18", 0.6)):
                    resp = rng.random() < rate
                    status = _status(rng, plan) if resp else None
                    working = status in ("work", "work_and_study", "self_employed")
                    wage = status in ("work", "work_and_study")
                    studying = status in ("further_studies", "work_and_study")
                    answers.append(
                        {
                            "graduate_key": key,
                            "cohort": cohort,
                            "wave": wave,
                            "is_respondent": resp,
                            "current_status": status,
                            "months_to_first_job": rng.choice(("lt1", "lt1", "1to3", "3to6", "6to12"))
                            if working
                            else None,
                            "job_found_via": rng.choice(CHANNELS) if working else None,
                            "job_related_to_qualification": rng.choice(("yes", "yes", "partly", "no"))
                            if wage
                            else None,
                            "contract_type": rng.choice(("permanent", "temporary", "temporary"))
                            if wage
                            else None,
                            "working_time": rng.choice(("full_time", "full_time", "part_time"))
                            if wage
                            else None,
                            "unpaid_extra_hours": rng.choice(("yes", "no", "no")) if wage else None,
                            "monthly_net_wage_band": rng.choice(("lt1000", "1000to1499", "prefer_not"))
                            if wage
                            else None,
                            "job_seeking_while_employed": rng.choice(("yes", "no", "no")) if wage else None,
                            "study_level": rng.choice(("vet", "vet", "university", "other"))
                            if studying
                            else None,
                            "study_related_to_qualification": rng.choice(("yes", "yes", "no"))
                            if studying
                            else None,
                            "unemployment_reasons": _multi(rng, REASONS, 2)
                            if status == "unemployed"
                            else None,
                            "had_job_since_graduation": rng.choice(("yes", "no"))
                            if status == "unemployed"
                            else None,
                            "expectations_met": rng.choice(("yes", "partly", "no")) if resp else None,
                            "relevant_skills": _multi(rng, SKILLS, 3) if resp else None,
                            "wish_learned_more": _multi(rng, WISHES, 3) if resp else None,
                            "alumni_contribution": _multi(rng, ALUMNI, 2) if resp else None,
                            "minutes": rng.uniform(2, 12) if resp else None,
                            "plan_after_graduation": plan,
                            "in_admin_base": school.country != "NL",
                            "admin_employed": (employed_admin or working) if school.country != "NL" else None,
                        }
                    )
    return register, identifiers, answers


ANSWER_COLUMNS = POST_GRADUATION_ITEMS + SHARED_ITEMS


def _indicator_specs() -> list[tuple[str, str, str, str, str]]:
    """(indicator, source, kind, base, numerator) as in the catalogue, over ``base`` columns."""
    emp = "current_status in ('work', 'work_and_study', 'self_employed')"
    placed = (
        "current_status in ('work', 'work_and_study', 'self_employed', 'further_studies', 'volunteering')"
    )
    known = "is_respondent and current_status is not null"
    wage = "is_respondent and current_status in ('work', 'work_and_study')"
    study = "is_respondent and current_status in ('further_studies', 'work_and_study')"
    unemp = "is_respondent and current_status = 'unemployed'"

    def answered(col: str) -> str:
        return f"({col} is not null and {col} not in ('', 'prefer_not'))"

    def has(col: str, code: str) -> str:
        return f"coalesce(list_contains(string_split({col}, ';'), '{code}'), false)"

    specs = [
        ("graduates", "survey", "count", "true", "true"),
        ("share_women", "survey", "proportion", "true", "sex = 'F'"),
        ("response_rate", "survey", "proportion", "true", "is_respondent"),
        ("completion_rate", "survey", "proportion", "is_respondent", "true"),
        (
            "median_minutes_to_complete",
            "survey",
            "median",
            "is_respondent and minutes is not null",
            "minutes",
        ),
    ]
    post = [
        ("linked_across_waves_rate", "survey", "proportion", "is_respondent", "responded_pre"),
        *[(f"status_{s}", "survey", "proportion", known, f"current_status = '{s}'") for s in STATUSES],
        ("employed_share", "survey", "proportion", known, emp),
        (
            "studying_share",
            "survey",
            "proportion",
            known,
            "current_status in ('further_studies', 'work_and_study')",
        ),
        (
            "job_related_to_qualification",
            "survey",
            "proportion",
            f"{wage} and {answered('job_related_to_qualification')}",
            "job_related_to_qualification = 'yes'",
        ),
        (
            "job_partly_related_to_qualification",
            "survey",
            "proportion",
            f"{wage} and {answered('job_related_to_qualification')}",
            "job_related_to_qualification = 'partly'",
        ),
        (
            "part_time_share",
            "survey",
            "proportion",
            f"{wage} and {answered('working_time')}",
            "working_time = 'part_time'",
        ),
        (
            "permanent_contract_share",
            "survey",
            "proportion",
            f"{wage} and {answered('contract_type')}",
            "contract_type = 'permanent'",
        ),
        (
            "wage_below_1000_share",
            "survey",
            "proportion",
            f"{wage} and {answered('monthly_net_wage_band')}",
            "monthly_net_wage_band = 'lt1000'",
        ),
        (
            "jobseeking_while_employed_share",
            "survey",
            "proportion",
            f"{wage} and {answered('job_seeking_while_employed')}",
            "job_seeking_while_employed = 'yes'",
        ),
        (
            "unpaid_extra_hours_share",
            "survey",
            "proportion",
            f"{wage} and {answered('unpaid_extra_hours')}",
            "unpaid_extra_hours = 'yes'",
        ),
        (
            "first_job_within_1_month",
            "survey",
            "proportion",
            f"{wage} and {answered('months_to_first_job')}",
            "months_to_first_job = 'lt1'",
        ),
        *[
            (
                f"job_found_via_{c}",
                "survey",
                "proportion",
                f"{wage} and {answered('job_found_via')}",
                f"job_found_via = '{c}'",
            )
            for c in CHANNELS
        ],
        *[
            (
                f"study_level_{lv}",
                "survey",
                "proportion",
                f"{study} and {answered('study_level')}",
                f"study_level = '{lv}'",
            )
            for lv in ("vet", "university", "other")
        ],
        (
            "study_related_to_qualification",
            "survey",
            "proportion",
            f"{study} and {answered('study_related_to_qualification')}",
            "study_related_to_qualification = 'yes'",
        ),
        ("combining_work_and_study", "survey", "proportion", study, "current_status = 'work_and_study'"),
        (
            "had_job_since_graduation",
            "survey",
            "proportion",
            f"{unemp} and {answered('had_job_since_graduation')}",
            "had_job_since_graduation = 'yes'",
        ),
        *[
            (
                f"unemployment_reason_{r}",
                "survey",
                "proportion",
                f"{unemp} and {answered('unemployment_reasons')}",
                has("unemployment_reasons", r),
            )
            for r in REASONS
        ],
        (
            "labour_market_expectations_met",
            "survey",
            "proportion",
            f"{known} and plan_after_graduation in ('work', 'work_and_study', 'self_employed')",
            emp,
        ),
        (
            "study_expectations_met",
            "survey",
            "proportion",
            f"{known} and plan_after_graduation in ('further_studies', 'work_and_study')",
            "current_status in ('further_studies', 'work_and_study')",
        ),
        (
            "self_reported_expectations_met",
            "survey",
            "proportion",
            f"is_respondent and {answered('expectations_met')}",
            "expectations_met = 'yes'",
        ),
        ("eqavet5a_placement_rate", "survey", "proportion", known, placed),
        (
            "eqavet5a_placement_rate",
            "combined",
            "proportion",
            "true",
            f"case when {known} then {placed} else coalesce(in_admin_base and admin_employed, false) end",
        ),
        ("eqavet5b_employment_rate", "survey", "proportion", known, emp),
        ("eqavet5b_employment_rate", "admin", "proportion", "in_admin_base", "admin_employed"),
        (
            "eqavet5b_employment_rate",
            "combined",
            "proportion",
            f"({known}) or in_admin_base",
            f"case when {known} then {emp} else admin_employed end",
        ),
        (
            "eqavet6a_skills_utilisation",
            "survey",
            "proportion",
            f"{wage} and {answered('job_related_to_qualification')}",
            "job_related_to_qualification = 'yes'",
        ),
        (
            "survey_admin_employment_agreement",
            "combined",
            "proportion",
            f"{known} and in_admin_base",
            f"({emp}) = admin_employed",
        ),
        ("nonresponse_gap_employment", "admin", "difference", "in_admin_base", "admin_employed"),
    ]
    shared = [
        *[
            (
                f"relevant_skill_{s}",
                "survey",
                "proportion",
                f"is_respondent and {answered('relevant_skills')}",
                has("relevant_skills", s),
            )
            for s in SKILLS
        ],
        *[
            (
                f"wish_learned_more_{w}",
                "survey",
                "proportion",
                f"is_respondent and {answered('wish_learned_more')}",
                has("wish_learned_more", w),
            )
            for w in WISHES
        ],
        *[
            (
                f"alumni_contribution_{a}",
                "survey",
                "proportion",
                f"is_respondent and {answered('alumni_contribution')}",
                has("alumni_contribution", a),
            )
            for a in ALUMNI
        ],
    ]
    pre = [
        (
            "alumni_contact_consent",
            "survey",
            "proportion",
            f"is_respondent and {answered('alumni_contact_consent')}",
            "alumni_contact_consent = 'yes'",
        )
    ]
    out = [(*s, "all") for s in specs + shared] + [(*s, "post") for s in post] + [(*s, "pre") for s in pre]
    return out  # type: ignore[return-value]


def _wilson(p: str, n: str, sign: str) -> str:
    z, z2 = 1.96, 1.96**2
    return (
        f"case when {n} > 0 then round(({p} + {z2} / (2.0 * {n}) {sign} {z} * sqrt({p} * (1 - {p}) / {n} "
        f"+ {z2} / (4.0 * {n} * {n}))) / (1 + {z2} / {n}), 6) end"
    )


def _compute_indicators(con: duckdb.DuckDBPyConnection, threshold: int) -> None:
    pairs = ", ".join(f"('{b}', {expr})" for b, expr in BREAKDOWNS.items())
    con.execute(
        f"""
        create temp table base_long as
        with base as (
            select a.*, r.school_code, r.country, r.region, r.sector_group, r.professional_family,
                   r.qualification_code, r.eqf_level, r.sex,
                   coalesce(p.is_respondent, false) as responded_pre
            from answers a
            join raw.register r using (graduate_key)
            left join answers p on p.graduate_key = a.graduate_key and p.wave = 'pre_graduation'
        )
        select base.*, bd.b as breakdown, bd.v as breakdown_value
        from base, (select unnest([{", ".join(f"{{'b': {b!r}, 'v': NULL}}" for b in BREAKDOWNS)}]) as s) x,
             lateral (select x.s.b as b) bx,
             lateral (select b, v from (values {pairs}) t(b, v) where b = bx.b) bd
        """
    )
    selects = []
    for ind, src, kind, base, num, waves in _indicator_specs():
        wave_filter = {
            "all": "true",
            "post": "wave in ('m6', 'm18')",
            "pre": "wave = 'pre_graduation'",
        }[waves]
        den = f"count(*) filter (where {base})"
        hits = f"count(*) filter (where ({base}) and coalesce({num}, false))"
        if kind == "count":
            measures = f"{den}::double as numerator, null::double as denominator, {den}::double as value"
        elif kind == "median":
            measures = f"null::double, {den}::double, median({num}) filter (where {base})"
        elif kind == "difference":
            resp = f"avg(case when {num} then 1.0 else 0.0 end) filter (where ({base}) and is_respondent)"
            non = f"avg(case when {num} then 1.0 else 0.0 end) filter (where ({base}) and not is_respondent)"
            measures = f"null::double, {den}::double, {resp} - {non}"
        else:
            measures = f"{hits}::double, {den}::double, case when {den} > 0 then {hits} / {den} end"
        selects.append(
            f"select cohort, wave, '{ind}' as indicator, '{src}' as source, breakdown, breakdown_value, "
            f"{measures} from base_long where {wave_filter} group by all"
        )
    con.execute(
        f"""
        create table marts.indicators as
        with raw_rows as ({" union all ".join(selects)})
        select cohort, wave, indicator, source, breakdown, breakdown_value,
               numerator, denominator, value,
               case when numerator is not null and denominator > 0
                    then {_wilson("value", "denominator", "-")} end as ci_low,
               case when numerator is not null and denominator > 0
                    then {_wilson("value", "denominator", "+")} end as ci_high,
               coalesce(case when indicator = 'graduates' then numerator else denominator end, 0)
                   < {threshold} as suppressed
        from raw_rows
        order by all
        """
    )
    con.execute(
        """
        create table marts.plan_status_transitions as
        select cohort, wave, breakdown, breakdown_value, plan_after_graduation, current_status,
               count(*) as graduates
        from base_long
        where wave in ('m6', 'm18') and is_respondent and current_status is not null
          and plan_after_graduation is not null
        group by all
        order by all
        """
    )


def build(
    path: str | Path,
    *,
    seed: int = 7,
    cohorts: tuple[int, ...] = (2019, 2020),
    schools: tuple[SampleSchool, ...] = SCHOOLS,
    threshold: int = 5,
) -> Path:
    """Write the sample warehouse to ``path`` (replacing it) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    rng = random.Random(seed)
    register, identifiers, answers = _people(rng, cohorts, schools)
    con = duckdb.connect(str(path))
    try:
        for schema in ("raw", "staging", "restricted", "marts"):
            con.execute(f"create schema {schema}")
        _table(con, "raw.register", register)
        _table(con, "restricted.register_identifiers", identifiers)
        columns = sorted({k for a in answers for k in a})
        for a in answers:
            for c in columns:
                a.setdefault(c, None)
        _table(con, "answers", answers, temp=True)
        con.execute(
            "create view staging.stg_register__graduates as "
            "select *, person_key is not null as has_admin_coverage from raw.register"
        )
        con.execute(
            "create table raw.context_indicators as select * from (values "
            "('ES12', 2019, 'unemployment_rate_15_24', 35.1, 'Eurostat lfst_r_lfu3rt'),"
            "('ES12', 2020, 'unemployment_rate_15_24', 39.6, 'Eurostat lfst_r_lfu3rt'),"
            "('EE00', 2019, 'unemployment_rate_15_24', 11.1, 'Eurostat lfst_r_lfu3rt'),"
            "('EE00', 2020, 'unemployment_rate_15_24', 17.7, 'Eurostat lfst_r_lfu3rt'),"
            "('NL11', 2019, 'unemployment_rate_15_24', 7.9, 'Eurostat lfst_r_lfu3rt'),"
            "('NL11', 2020, 'unemployment_rate_15_24', 9.6, 'Eurostat lfst_r_lfu3rt')"
            ") t(region, year, indicator, value, source)"
        )
        answer_list = ", ".join(ANSWER_COLUMNS)
        con.execute(
            f"""create table marts.fct_graduate_outcomes as
                select graduate_key, cohort, wave, is_respondent, {answer_list}, in_admin_base, admin_employed
                from answers where wave in ('m6', 'm18')"""
        )
        con.execute(
            f"""create table marts.fct_survey_responses as
                select 'r' || row_number() over () as response_key, a.wave, a.graduate_key, a.cohort,
                       r.school_code, true as is_complete, true as is_respondent_record,
                       a.minutes as minutes_to_complete, r.language,
                       case when a.wave = 'pre_graduation' then a.plan_after_graduation end
                           as plan_after_graduation,
                       a.alumni_contact_consent, {", ".join("a." + c for c in ANSWER_COLUMNS)}
                from answers a join raw.register r using (graduate_key)
                where a.is_respondent"""
        )
        _compute_indicators(con, threshold)
    finally:
        con.close()
    return path


def _table(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict], temp: bool = False) -> None:
    import pyarrow as pa

    data = pa.Table.from_pylist(rows)  # noqa: F841 - read by DuckDB's replacement scan
    con.execute(f"create {'temp ' if temp else ''}table {name} as select * from data")


if __name__ == "__main__":  # pragma: no cover
    print(build(sys.argv[1] if len(sys.argv) > 1 else "build/sample.duckdb"))
