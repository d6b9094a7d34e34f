"""A tiny landing folder written by hand, run through `gradtrack run`, every indicator computed by hand.

Cohort 2021, graduated 2021-06-30: m6 reference date 2021-12-30, m18 2022-12-30. Six graduates:

    ES-A (industry, Q1, EQF 4, region ES12): 1001 F, 1002 M, 1003 F, 1004 M (no national id)
    ES-B (services, Q2, EQF 5, no region):   2001 F, 2002 M

pre_graduation (March 2021): 1001 (plan work, 6 min), 1002 (further_studies, 8), 1003 (work, 10),
2001 (work_and_study, 4) complete; 2002 started and gave up.

m6 (January 2022): 1001 work (5 min), 1002 further_studies (7), 1003 an unfinished attempt then
work_and_study (9), 2001 unemployed (11), and a complete response with an unknown student id at
ES-B (13 min) that links to nobody.

Admin extract of 2022-03-01 (so m6 is observed, m18 is not):
    1001 permanent from 2021-07-05, open                    employed at m6, 5 days, 6 of 6 months
    1003 temporary part time 2021-08-15 .. 2021-12-31 and a
         shorter permanent one 2021-12-01 .. 2021-12-31      employed (temporary, part time), 46 days, 5
    2001 temporary 2021-07-10 .. 2021-09-30                  not employed at m6, 10 days, 3 months
    2002 temporary from 2021-09-01, open                     employed, 63 days, 4 months
    1002 nothing; 1004 no national id (outside the admin base); a non-graduate's spell.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.conftest import ROOT, gradtrack_env

GRADTRACK = str(Path(sys.executable).with_name("gradtrack"))


def _csv(header: str, rows: list[str]) -> str:
    return "\n".join([header, *rows]) + "\n"


ES_A = "ES-A,Escuela A,ES,ES12"
ES_B = "ES-B,Escuela B,ES,"
Q1 = "Q1,Soldadura,4,Fabricación Mecánica,industry,2021,2021-06-30,es"
Q2 = "Q2,Dirección de Cocina,5,Hostelería y Turismo,services,2021,2021-06-30,es"
REGISTER = _csv(
    "student_id,school_code,school_name,country,region,national_id,first_name,last_name,birth_date,sex,"
    "email,phone,qualification_code,qualification_name,eqf_level,professional_family,sector_group,cohort,"
    "graduation_date,language",
    [
        f"1001,{ES_A},11111111H,Ana,Alonso,2000-01-01,F,,,{Q1}",
        f"1002,{ES_A},22222222J,Bruno,Blanco,2000-02-02,M,,,{Q1}",
        f"1003,{ES_A},33333333P,Carla,Cueto,2000-03-03,F,,,{Q1}",
        f"1004,{ES_A},,Diego,Díaz,2000-04-04,M,,,{Q1}",
        f"2001,{ES_B},44444444A,Elena,Estrada,1999-05-05,F,,,{Q2}",
        f"2002,{ES_B},55555555K,Fidel,Fueyo,1999-06-06,M,,,{Q2}",
    ],
)

PRE = _csv(
    "response_id,started_at,submitted_at,language,student_id,school_code,plan_after_graduation,"
    "prior_work_experience,relevant_skills,wish_learned_more,alumni_contact_consent,alumni_contribution",
    [
        "1,2021-03-10 10:00:00,2021-03-10 10:06:00,es,1001,ES-A,"
        'work,yes,"teamwork;technical",job_search,yes,talks',
        "2,2021-03-10 10:00:00,2021-03-10 10:08:00,es,1002,ES-A,further_studies,no,teamwork,,no,none",
        "3,2021-03-10 10:00:00,2021-03-10 10:10:00,es,1003,ES-A,"
        'work,no,digital,languages,yes,"mentoring;talks"',
        "4,2021-03-11 10:00:00,2021-03-11 10:04:00,es,2001,ES-B,"
        "work_and_study,yes,teamwork,job_search,yes,hiring",
        "5,2021-03-11 10:00:00,,es,2002,ES-B,,,,,,",
    ],
)

# columns after the paradata: current_status, months_to_first_job, job_found_via,
# job_related_to_qualification, contract_type, working_time, unpaid_extra_hours, monthly_net_wage_band,
# job_seeking_while_employed, study_level, study_related_to_qualification, unemployment_reasons,
# had_job_since_graduation, expectations_met, relevant_skills
M6 = _csv(
    "response_id,started_at,submitted_at,language,student_id,school_code,current_status,"
    "months_to_first_job,job_found_via,job_related_to_qualification,contract_type,working_time,"
    "unpaid_extra_hours,monthly_net_wage_band,job_seeking_while_employed,study_level,"
    "study_related_to_qualification,unemployment_reasons,had_job_since_graduation,expectations_met,"
    "relevant_skills",
    [
        "1,2022-01-10 18:00:00,2022-01-10 18:05:00,es,1001,ES-A,"
        "work,lt1,school,yes,permanent,full_time,no,1000to1499,no,,,,,yes,teamwork",
        "2,2022-01-11 18:00:00,2022-01-11 18:07:00,es,1002,ES-A,"
        "further_studies,,,,,,,,,vet,yes,,,yes,technical",
        "3,2022-01-12 18:00:00,,es,1003,ES-A,unemployed,,,,,,,,,,,,,,",
        "4,2022-01-14 18:00:00,2022-01-14 18:09:00,es,1003,ES-A,work_and_study,1to3,personal_contacts,"
        'partly,temporary,part_time,yes,lt1000,yes,university,no,,,partly,"teamwork;digital"',
        "5,2022-01-15 18:00:00,2022-01-15 18:11:00,es,2001,ES-B,"
        'unemployed,,,,,,,,,,,"few_offers;low_pay",yes,no,',
        "6,2022-01-16 18:00:00,2022-01-16 18:13:00,es,9999,ES-B,"
        "work,lt1,school,yes,permanent,full_time,no,ge2000,no,,,,,yes,",
    ],
)

ADMIN = _csv(
    "national_id,employer_id,spell_start,spell_end,contract_type,part_time_pct,nace_section,"
    "monthly_earnings,source,extracted_on",
    [
        "11111111H,E1,2021-07-05,,permanent,,C,1800,es_tgss,2022-03-01",
        "33333333P,E2,2021-08-15,2021-12-31,temporary,50,C,700,es_tgss,2022-03-01",
        "33333333P,E3,2021-12-01,2021-12-31,permanent,,C,900,es_tgss,2022-03-01",
        "44444444A,E4,2021-07-10,2021-09-30,temporary,,I,1000,es_tgss,2022-03-01",
        "55555555K,E5,2021-09-01,,temporary,,I,1100,es_tgss,2022-03-01",
        "99999999R,E6,2021-07-01,,permanent,,C,2000,es_tgss,2022-03-01",
    ],
)


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("indicators_e2e")
    landing = tmp / "landing"
    for rel, text in {
        "register/tiny_2021.csv": REGISTER,
        "surveys/pre_graduation/tiny_2021.csv": PRE,
        "surveys/m6/tiny_2021.csv": M6,
        "admin/es_2022.csv": ADMIN,
    }.items():
        path = landing / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    warehouse = tmp / "wh" / "gradtrack.duckdb"
    env = gradtrack_env(tmp)
    env["DAGSTER_HOME"] = str(tmp / "dagster_home")
    (tmp / "dagster_home").mkdir()
    proc = subprocess.run(
        [GRADTRACK, "run", "--landing", str(landing), "--warehouse", str(warehouse)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    connection = duckdb.connect(str(warehouse), read_only=True)
    yield connection
    connection.close()


def _row(con, wave, indicator, source="survey", breakdown="total", value="all"):
    rows = con.execute(
        """select numerator, denominator, value, ci_low, ci_high, suppressed from marts.indicators
           where cohort = 2021 and wave = ? and indicator = ? and source = ? and breakdown = ?
             and breakdown_value = ?""",
        [wave, indicator, source, breakdown, value],
    ).fetchall()
    assert len(rows) == 1, (wave, indicator, source, breakdown, value, rows)
    return rows[0]


# (wave, indicator, source, breakdown, breakdown_value) -> (numerator, denominator), all by hand
PROPORTIONS = {
    # participation
    ("pre_graduation", "share_women", "survey", "total", "all"): (3, 6),
    ("pre_graduation", "response_rate", "survey", "total", "all"): (4, 6),
    ("pre_graduation", "completion_rate", "survey", "total", "all"): (4, 5),
    ("m6", "response_rate", "survey", "total", "all"): (4, 6),
    ("m6", "response_rate", "survey", "school", "ES-B"): (1, 2),
    ("m6", "response_rate", "survey", "sex", "F"): (3, 3),
    ("m6", "completion_rate", "survey", "total", "all"): (5, 6),  # 6 responses, 1 unfinished
    ("m6", "completion_rate", "survey", "school", "ES-A"): (3, 4),
    ("m6", "completion_rate", "survey", "school", "ES-B"): (2, 2),  # incl. the unlinked response
    ("m6", "completion_rate", "survey", "region", "unknown"): (2, 2),
    ("m6", "linked_across_waves_rate", "survey", "total", "all"): (4, 4),
    # status
    ("m6", "status_work", "survey", "total", "all"): (1, 4),
    ("m6", "status_work_and_study", "survey", "total", "all"): (1, 4),
    ("m6", "status_further_studies", "survey", "total", "all"): (1, 4),
    ("m6", "status_unemployed", "survey", "total", "all"): (1, 4),
    ("m6", "status_self_employed", "survey", "total", "all"): (0, 4),
    ("m6", "employed_share", "survey", "total", "all"): (2, 4),
    ("m6", "studying_share", "survey", "total", "all"): (2, 4),
    ("m6", "status_unemployed", "survey", "eqf_level", "5"): (1, 1),
    # job quality (1001, 1003)
    ("m6", "job_related_to_qualification", "survey", "total", "all"): (1, 2),
    ("m6", "job_partly_related_to_qualification", "survey", "total", "all"): (1, 2),
    ("m6", "part_time_share", "survey", "total", "all"): (1, 2),
    ("m6", "permanent_contract_share", "survey", "total", "all"): (1, 2),
    ("m6", "wage_below_1000_share", "survey", "total", "all"): (1, 2),
    ("m6", "jobseeking_while_employed_share", "survey", "total", "all"): (1, 2),
    ("m6", "unpaid_extra_hours_share", "survey", "total", "all"): (1, 2),
    ("m6", "first_job_within_1_month", "survey", "total", "all"): (1, 2),
    ("m6", "job_found_via_school", "survey", "total", "all"): (1, 2),
    ("m6", "job_found_via_personal_contacts", "survey", "total", "all"): (1, 2),
    ("m6", "job_found_via_temp_agency", "survey", "total", "all"): (0, 2),
    # further studies (1002, 1003)
    ("m6", "study_level_vet", "survey", "total", "all"): (1, 2),
    ("m6", "study_level_university", "survey", "total", "all"): (1, 2),
    ("m6", "study_related_to_qualification", "survey", "total", "all"): (1, 2),
    ("m6", "combining_work_and_study", "survey", "total", "all"): (1, 2),
    # unemployment (2001)
    ("m6", "had_job_since_graduation", "survey", "total", "all"): (1, 1),
    ("m6", "unemployment_reason_few_offers", "survey", "total", "all"): (1, 1),
    ("m6", "unemployment_reason_low_pay", "survey", "total", "all"): (1, 1),
    ("m6", "unemployment_reason_no_experience", "survey", "total", "all"): (0, 1),
    # expectations: labour plans 1001, 1003 (work), 2001 (work_and_study); study plans 1002, 2001
    ("m6", "labour_market_expectations_met", "survey", "total", "all"): (2, 3),
    ("m6", "study_expectations_met", "survey", "total", "all"): (1, 2),
    ("m6", "self_reported_expectations_met", "survey", "total", "all"): (2, 4),
    # skills, training, alumni
    ("pre_graduation", "relevant_skill_teamwork", "survey", "total", "all"): (3, 4),
    ("pre_graduation", "relevant_skill_digital", "survey", "total", "all"): (1, 4),
    ("pre_graduation", "wish_learned_more_job_search", "survey", "total", "all"): (2, 3),
    ("pre_graduation", "alumni_contact_consent", "survey", "total", "all"): (3, 4),
    ("pre_graduation", "alumni_contribution_talks", "survey", "total", "all"): (2, 4),
    ("pre_graduation", "alumni_contribution_none", "survey", "total", "all"): (1, 4),
    ("m6", "relevant_skill_teamwork", "survey", "total", "all"): (2, 3),
    ("m6", "relevant_skill_technical", "survey", "total", "all"): (1, 3),
    # EQAVET and admin
    ("m6", "eqavet5a_placement_rate", "survey", "total", "all"): (3, 4),
    ("m6", "eqavet5a_placement_rate", "combined", "total", "all"): (4, 6),
    ("m6", "eqavet5b_employment_rate", "survey", "total", "all"): (2, 4),
    ("m6", "eqavet5b_employment_rate", "admin", "total", "all"): (3, 5),
    ("m6", "eqavet5b_employment_rate", "admin", "school", "ES-B"): (1, 2),
    ("m6", "eqavet5b_employment_rate", "combined", "total", "all"): (3, 5),
    ("m6", "eqavet6a_skills_utilisation", "survey", "total", "all"): (1, 2),
    ("m6", "admin_permanent_share", "admin", "total", "all"): (1, 3),
    ("m6", "admin_part_time_share", "admin", "total", "all"): (1, 3),
    ("m6", "admin_share_of_months_employed", "admin", "total", "all"): (18, 30),
    ("m6", "survey_admin_employment_agreement", "combined", "total", "all"): (4, 4),
}


@pytest.mark.parametrize("key", list(PROPORTIONS), ids=["/".join(k) for k in PROPORTIONS])
def test_proportion(con, key):
    numerator, denominator, value, low, high, suppressed = _row(con, *key)
    assert (numerator, denominator) == PROPORTIONS[key]
    assert math.isclose(value, numerator / denominator)
    if key[1] != "admin_share_of_months_employed":
        assert low is not None and high is not None and low <= value <= high
    # the base is graduates or responses: 5 graduates for the months share (30 months), else the denominator
    base = 5 if key[1] == "admin_share_of_months_employed" else denominator
    assert suppressed == (base < 5)


def test_counts_medians_and_difference(con):
    assert _row(con, "pre_graduation", "graduates")[:3] == (6, None, 6)
    assert _row(con, "m6", "graduates", breakdown="school", value="ES-A")[:3] == (4, None, 4)
    # pre: 6, 8, 10, 4 minutes -> (6 + 8) / 2; m6: 5, 7, 9, 11, 13 (incl. the unlinked) -> 9
    assert _row(con, "pre_graduation", "median_minutes_to_complete")[:3] == (None, 4, 7.0)
    assert _row(con, "m6", "median_minutes_to_complete")[:3] == (None, 5, 9.0)
    # days to first job 5, 46, 10, 63 -> (10 + 46) / 2
    assert _row(con, "m6", "admin_median_days_to_first_job", "admin")[:3] == (None, 4, 28.0)
    # respondents in the admin base 2 of 4 employed, non-respondents 1 of 1: 0.5 - 1.0
    numerator, denominator, value, low, high, suppressed = _row(
        con, "m6", "nonresponse_gap_employment", "admin"
    )
    assert (numerator, denominator, value, low, high, suppressed) == (None, 5, -0.5, None, None, True)


def test_survey_weighted_matches_an_independent_raking(con):
    """Raking of the 4 m6 respondents to school, sex, sector and admin status, redone here in Python."""
    # (school, sex, sector, admin status, employed per survey) of the respondents; population counts
    respondents = [
        ("ES-A", "F", "industry", "employed", True),  # 1001 work
        ("ES-A", "M", "industry", "not_employed", False),  # 1002 further_studies
        ("ES-A", "F", "industry", "employed", True),  # 1003 work_and_study
        ("ES-B", "F", "services", "not_employed", False),  # 2001 unemployed
    ]
    population = [
        ("ES-A", "F", "industry", "employed"),
        ("ES-A", "M", "industry", "not_employed"),
        ("ES-A", "F", "industry", "employed"),
        ("ES-A", "M", "industry", "not_covered"),
        ("ES-B", "F", "services", "not_employed"),
        ("ES-B", "M", "services", "employed"),
    ]
    weights = [len(population) / len(respondents)] * len(respondents)
    # The margins conflict here (the one man answering is not employed, the admin margin wants more),
    # so the fitting does not converge: compare after the same number of iterations as the warehouse.
    project = yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text(encoding="utf-8"))
    for _ in range(int(project["vars"]["raking_iterations"])):
        for m in range(4):
            represented = {r[m] for r in respondents}
            covered = sum(1 for p in population if p[m] in represented)
            for category in represented:
                target = sum(1 for p in population if p[m] == category) * len(population) / covered
                current = sum(w for w, r in zip(weights, respondents, strict=True) if r[m] == category)
                weights = [
                    w * target / current if r[m] == category else w
                    for w, r in zip(weights, respondents, strict=True)
                ]
    expected = sum(w for w, r in zip(weights, respondents, strict=True) if r[4]) / sum(weights)
    _, denominator, value, low, high, _ = _row(con, "m6", "eqavet5b_employment_rate", "survey_weighted")
    assert math.isclose(denominator, 6, rel_tol=1e-6)
    assert math.isclose(value, expected, rel_tol=1e-6), (value, expected, weights)
    assert low <= value <= high


def test_rows_only_where_a_source_has_data(con):
    # no m18 survey and the admin extract predates the m18 reference date: nothing for m18
    assert con.execute("select count(*) from marts.indicators where wave = 'm18'").fetchall() == [(0,)]
    # no admin or status indicator before graduation
    assert con.execute(
        """select count(*) from marts.indicators where wave = 'pre_graduation'
           and (source <> 'survey' or indicator like 'status_%' or indicator like 'eqavet%')"""
    ).fetchall() == [(0,)]


def test_outcomes_and_transitions(con):
    outcomes = dict(
        con.execute(
            """select d.school_code || ':' || o.wave || ':' || cast(d.sex as varchar) || ':' ||
                      coalesce(o.current_status, '-'),
                      coalesce(o.combined_status, '-') || '/' || coalesce(o.combined_status_source, '-')
               from marts.fct_graduate_outcomes o join marts.dim_graduate d using (graduate_key)
               where o.wave = 'm6' and d.school_code = 'ES-B'"""
        ).fetchall()
    )
    assert outcomes == {"ES-B:m6:F:unemployed": "unemployed/survey", "ES-B:m6:M:-": "employed/admin"}
    transitions = dict(
        con.execute(
            """select plan_after_graduation || '>' || current_status, graduates
               from marts.plan_status_transitions
               where cohort = 2021 and wave = 'm6' and breakdown = 'total' and graduates > 0"""
        ).fetchall()
    )
    assert transitions == {
        "work>work": 1,
        "work>work_and_study": 1,
        "further_studies>further_studies": 1,
        "work_and_study>unemployed": 1,
    }
    cells = con.execute(
        "select count(*) from marts.plan_status_transitions where cohort = 2021 and wave = 'm6' "
        "and breakdown = 'total'"
    ).fetchall()
    assert cells == [(6 * 7,)]
