"""The GX data-quality suites and their Dagster asset checks.

Unit tests build tiny DuckDB tables with the columns the suites read and show that every rule
passes on good rows and fails on the bad row it guards against. The Dagster tests run the real
ingestion assets with the checks and show that a failing blocking check stops its downstream assets.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from ingestion.contract import CODEBOOK, MULTI_CHOICE, POST_GRADUATION_ITEMS, PRE_GRADUATION_ITEMS
from ingestion.sample import generate
from orchestration import settings
from orchestration.defs.ingestion.assets import assets as ingestion_assets
from orchestration.defs.ingestion.resources import LandingFolder, PseudonymKeyResource
from orchestration.defs.quality import suites
from orchestration.defs.quality.checks import input_checks, mart_checks
from tests.conftest import TEST_KEY

NOW = datetime(2026, 1, 1)


def failed(outcome: suites.SuiteOutcome) -> set[str]:
    return {o.name for o in outcome.failed}


# ---------------------------------------------------------------- raw tables


def _create_raw(con: duckdb.DuckDBPyConnection) -> None:
    items = dict.fromkeys(
        c
        for c in (*PRE_GRADUATION_ITEMS, *POST_GRADUATION_ITEMS, *sorted(MULTI_CHOICE))
        if not c.startswith("perceived")
    )
    con.execute("create schema raw")
    con.execute(
        """create table raw.register (graduate_key varchar, sex varchar, sector_group varchar,
           eqf_level integer, language varchar, cohort integer, graduation_date date,
           birth_year integer, _source_file varchar, _source_line bigint)"""
    )
    con.execute(
        """insert into raw.register values
           ('g1', 'F', 'industry', 3, 'es', 2019, '2019-06-20', 2000, 'register/a.csv', 2),
           ('g2', 'M', 'services', 4, null, 2019, '2019-06-20', 1980, 'register/a.csv', 3),
           ('g3', 'X', 'services', 5, 'et', 2019, '2020-01-31', 1998, 'register/b.csv', 2)"""
    )
    for wave in ("pre_graduation", "m6", "m18"):
        columns = ", ".join(f"{c} varchar" for c in items)
        con.execute(
            f"""create table raw.survey_{wave} (response_key varchar, wave varchar, started_at timestamp,
                submitted_at timestamp, language varchar, perceived_opportunities_region integer,
                perceived_opportunities_sector integer, {columns},
                _source_file varchar, _source_line bigint)"""
        )
        start = {"pre_graduation": "2019-04-01", "m6": "2020-01-10", "m18": "2021-01-10"}[wave]
        con.execute(
            f"""insert into raw.survey_{wave} (response_key, wave, started_at, submitted_at, language,
                    _source_file, _source_line)
                values ('r1', '{wave}', '{start} 10:00', '{start} 10:12', 'es', 'surveys/{wave}/a.csv', 2),
                       ('r2', '{wave}', '{start} 11:00', null, 'en', 'surveys/{wave}/a.csv', 3)"""
        )
    con.execute(
        """update raw.survey_pre_graduation set plan_after_graduation = 'work',
           perceived_opportunities_region = 4, relevant_skills = 'digital;teamwork',
           alumni_contribution = 'none' where response_key = 'r1'"""
    )
    for wave in ("m6", "m18"):
        con.execute(
            f"""update raw.survey_{wave} set current_status = 'work', contract_type = 'no_contract',
                monthly_net_wage_band = 'prefer_not', unemployment_reasons = null,
                relevant_skills = 'communication' where response_key = 'r1'"""
        )
    con.execute(
        """create table raw.employment_spells (spell_key varchar, spell_start date, spell_end date,
           contract_type varchar, part_time_pct double, _source_file varchar, _source_line bigint)"""
    )
    con.execute(
        """insert into raw.employment_spells values
           ('s1', '2019-09-01', '2020-03-31', 'temporary', 100, 'admin/es.csv', 2),
           ('s2', '2020-04-01', null, 'permanent', 50, 'admin/es.csv', 3),
           ('s3', '2020-05-01', '2020-05-01', 'self_employed', null, 'admin/es.csv', 4)"""
    )


@pytest.fixture
def raw() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    _create_raw(con)
    yield con
    con.close()


def test_register_passes_on_contract_rows(raw):
    outcome = suites.check_register(raw)
    assert outcome.success, outcome.markdown()
    assert outcome.rows == 3 and len(outcome.outcomes) == 13


def inject(con: duckdb.DuckDBPyConnection, table: str, key: str, copy_of: str, faults: dict) -> dict:
    """Copy a good row once per rule with the faulty values; returns rule -> "file:line" of its row.

    One validation then shows every rule failing on its own row and nowhere else (GX costs ~30 ms
    per expectation, so one run per suite keeps the tests fast).
    """
    where = {}
    file = con.execute(f"select _source_file from raw.{table} where {key} = ?", [copy_of]).fetchall()[0][0]
    for line, (rule, changes) in enumerate(faults.items(), start=100):
        changes = {key: f"'{copy_of}-{line}'", **changes, "_source_line": str(line)}
        replace = ", ".join(f"{value} as {column}" for column, value in changes.items())
        con.execute(
            f"insert into raw.{table} select * replace ({replace}) from raw.{table} where {key} = ?",
            [copy_of],
        )
        where[rule] = f"{file}:{line}"
    return where


def assert_each_rule_fails_on_its_row(outcome: suites.SuiteOutcome, where: dict) -> None:
    assert failed(outcome) == set(where), outcome.markdown()
    for rule, row in where.items():
        bad = outcome.outcome(rule)
        assert row in bad.rows, (rule, bad.rows)
        if not rule.endswith("_unique"):  # a duplicate also points at the row it duplicates
            assert bad.rows == [row] and bad.unexpected_count == 1, (rule, bad)


def test_register_rules_each_fail_on_their_bad_row(raw):
    where = inject(
        raw,
        "register",
        "graduate_key",
        "g1",
        {
            "sex_in_codebook": {"sex": "'W'"},
            "sex_not_null": {"sex": "null"},
            "sector_group_in_codebook": {"sector_group": "'agri'"},
            "eqf_level_in_codebook": {"eqf_level": "6"},
            "language_in_codebook": {"language": "'fr'"},
            "eqf_level_not_null": {"eqf_level": "null"},
            "graduation_date_not_null": {"graduation_date": "null"},
            "graduation_date_in_cohort_year_or_next": {"graduation_date": "date '2018-12-31'"},
            "age_at_graduation_plausible": {"birth_year": "2010"},
            "graduate_key_unique": {"graduate_key": "'g2'"},
        },
    )
    assert_each_rule_fails_on_its_row(suites.check_register(raw), where)


def test_register_plausibility_bounds(raw):
    # cohort 2019: graduation in 2019 or 2020 (late sessions, deferred placements); aged 14 to 70.
    edges = {
        "2020_12_31": {"graduation_date": "date '2020-12-31'"},
        "age_14": {"birth_year": "2005"},
        "age_70": {"birth_year": "1949"},
    }
    inject(raw, "register", "graduate_key", "g1", edges)
    assert suites.check_register(raw).success
    beyond = {
        "2021_01_01": {"graduation_date": "date '2021-01-01'"},
        "age_13": {"birth_year": "2006"},
        "age_71": {"birth_year": "1948"},
    }
    where = inject(raw, "register", "graduate_key", "g2", beyond)
    outcome = suites.check_register(raw)
    assert outcome.outcome("graduation_date_in_cohort_year_or_next").rows == [where["2021_01_01"]]
    assert outcome.outcome("age_at_graduation_plausible").rows == [where["age_13"], where["age_71"]]


def test_register_failures_never_show_keys_or_ages(raw):
    raw.execute("update raw.register set graduate_key = 'g1', birth_year = 2012 where graduate_key = 'g2'")
    outcome = suites.check_register(raw)
    assert failed(outcome) == {"graduate_key_unique", "age_at_graduation_plausible"}
    for rule in outcome.failed:
        assert rule.examples == [] and rule.observed is None
        assert rule.rows  # where to look: file and line
    assert "g1" not in outcome.markdown() and "| 7" not in outcome.markdown()
    assert "register/a.csv:3" in outcome.markdown()


@pytest.mark.parametrize("wave", ["pre_graduation", "m6", "m18"])
def test_survey_passes_on_contract_rows(raw, wave):
    outcome = suites.check_survey(raw, wave, now=NOW)
    assert outcome.success, outcome.markdown()
    assert {f"{c}_in_codebook" for c in suites.wave_items(wave)} <= {o.name for o in outcome.outcomes}


SURVEY_FAULTS: dict[str, dict[str, dict[str, str]]] = {
    "pre_graduation": {
        "perceived_opportunities_region_in_codebook": {"perceived_opportunities_region": "7"},
        "plan_after_graduation_in_codebook": {"plan_after_graduation": "'travel'"},
        "alumni_contribution_in_codebook": {"alumni_contribution": "'none;money'"},
        "language_in_codebook": {"language": "'de'"},
        "response_key_unique": {"response_key": "'r2'"},
    },
    "m6": {
        "current_status_in_codebook": {"current_status": "'astronaut'"},
        "relevant_skills_in_codebook": {"relevant_skills": "'flying;teamwork'"},
        "unemployment_reasons_in_codebook": {"unemployment_reasons": "'low_pay;'"},
        "started_at_not_after_submitted_at": {"submitted_at": "started_at - interval 1 minute"},
        "started_at_between_2000_and_now": {"started_at": "timestamp '1999-12-31 23:00'"},
        "submitted_at_between_2000_and_now": {"submitted_at": "timestamp '2026-01-03 10:00'"},
        "response_key_not_null": {"response_key": "null"},
    },
    "m18": {
        "monthly_net_wage_band_in_codebook": {"monthly_net_wage_band": "'900'"},
        "contract_type_in_codebook": {"contract_type": "'self_employed'"},  # an admin code, not a survey one
        "wave_matches_table": {"wave": "'m6'"},
    },
}


@pytest.mark.parametrize("wave", ["pre_graduation", "m6", "m18"])
def test_survey_rules_each_fail_on_their_bad_row(raw, wave):
    faults = SURVEY_FAULTS[wave]
    where = inject(raw, f"survey_{wave}", "response_key", "r1", faults)
    assert_each_rule_fails_on_its_row(suites.check_survey(raw, wave, now=NOW), where)


def test_pre_graduation_items_are_checked_in_their_wave_only(raw):
    # current_status is no pre_graduation item: its codes are the post waves' business.
    raw.execute("update raw.survey_pre_graduation set current_status = 'astronaut'")
    assert suites.check_survey(raw, "pre_graduation", now=NOW).success


def test_unexpected_codes_are_shown_distinct_with_where_they_are(raw):
    raw.execute("update raw.survey_m6 set current_status = 'astronaut'")
    bad = suites.check_survey(raw, "m6", now=NOW).outcome("current_status_in_codebook")
    assert bad.examples == ["astronaut"] and bad.unexpected_count == 2
    assert bad.rows == ["surveys/m6/a.csv:2", "surveys/m6/a.csv:3"]


def test_fieldwork_window_follows_the_register_cohorts(raw):
    assert suites.fieldwork_window("m18", (2019, 2020)) == (
        datetime(2020, 1, 1),
        datetime(2023, 12, 31, 23, 59, 59, 999999),
    )
    for wave in ("pre_graduation", "m6", "m18"):
        assert suites.check_survey_fieldwork(raw, wave).success
    raw.execute("update raw.survey_m6 set started_at = '2023-02-01' where response_key = 'r2'")
    outcome = suites.check_survey_fieldwork(raw, "m6")
    assert failed(outcome) == {"started_at_in_m6_fieldwork_of_cohorts_2019_2019"}
    assert outcome.outcome("started_at_in_m6_fieldwork_of_cohorts_2019_2019").examples == ["2023-02-01"]
    raw.execute("delete from raw.register")
    skipped = suites.check_survey_fieldwork(raw, "m6")
    assert skipped.success and skipped.outcomes == [] and "no register cohorts" in (skipped.note or "")


def test_spells_pass_on_contract_rows(raw):
    assert suites.check_spells(raw).success


def test_spells_rules_each_fail_on_their_bad_row(raw):
    where = inject(
        raw,
        "employment_spells",
        "spell_key",
        "s1",
        {
            "spell_start_not_after_spell_end": {"spell_end": "date '2019-08-31'"},
            "contract_type_in_admin_codebook": {"contract_type": "'zero_hours'"},
            "contract_type_not_null": {"contract_type": "null"},
            "part_time_pct_between_0_and_100": {"part_time_pct": "120"},
            "spell_start_not_null": {"spell_start": "null"},
            "spell_key_unique": {"spell_key": "'s2'"},
        },
    )
    assert_each_rule_fails_on_its_row(suites.check_spells(raw), where)


def test_survey_codebook_rules_follow_the_contract():
    assert suites._codes_regex(("a", "b.c")) == r"^(?:a|b\.c)(?:;(?:a|b\.c))*$"
    assert set(suites.wave_items("m6")) >= {"current_status", "unemployment_reasons", "expectations_met"}
    assert "plan_after_graduation" in suites.wave_items("pre_graduation")
    assert all(c in CODEBOOK for c in suites.wave_items("m18"))


# ---------------------------------------------------------------- marts.indicators

# (indicator, source) -> [(breakdown, group, numerator, denominator, value or None, suppressed or None)]
# Proportions get value = numerator / denominator and a Wilson interval; suppressed defaults to
# denominator < 5 (count: numerator < 5).
G = [("total", "all"), ("sex", "F"), ("sex", "M"), ("school", "A"), ("school", "B")]
MART: dict[tuple[str, str], list[tuple]] = {
    ("response_rate", "survey"): [
        (*g, n, d, None, None) for g, (n, d) in zip(G, [(6, 10), (4, 6), (2, 4), (5, 7), (1, 3)], strict=True)
    ],
    # one unlinked response: in the total and its school, in no sex group.
    ("completion_rate", "survey"): [
        (*g, n, d, None, None) for g, (n, d) in zip(G, [(7, 9), (4, 5), (2, 2), (5, 6), (2, 3)], strict=True)
    ],
    ("graduates", "survey"): [(*g, n, None, n, None) for g, n in zip(G, [10, 6, 4, 7, 3], strict=True)],
    ("median_minutes_to_complete", "survey"): [
        (*g, None, d, v, None)
        for g, (d, v) in zip(G, [(9, 6.5), (5, 7.0), (2, 4.0), (6, 6.0), (3, 8.0)], strict=True)
    ],
    ("nonresponse_gap_employment", "admin"): [
        (*g, None, d, v, s)
        for g, (d, v, s) in zip(
            G,
            [(10, -0.1, False), (6, 0.2, True), (4, -0.5, True), (7, 0.0, False), (3, 1.0, True)],
            strict=True,
        )
    ],
    # weighted: rounded weight sums; the small groups' suppression follows their unweighted count.
    ("employed_share", "survey_weighted"): [
        (*g, n, d, None, s)
        for g, (n, d, s) in zip(
            G,
            [
                (5.5, 10.0, False),
                (3.25, 6.100001, False),
                (2.25, 3.9, False),
                (4.0, 7.2, False),
                (1.5, 2.8, True),
            ],
            strict=True,
        )
    ],
    # months employed / months observed: the base is graduates, not months.
    ("admin_share_of_months_employed", "admin"): [
        (*g, n, d, None, s)
        for g, (n, d, s) in zip(
            G, [(30, 60, False), (18, 36, False), (12, 24, True), (21, 42, False), (9, 18, True)], strict=True
        )
    ],
}


def _wilson(p: float, n: float, z: float = 1.96) -> tuple[float, float]:
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return round(max(0.0, centre - half), 6), round(min(1.0, centre + half), 6)


def mart_rows() -> list[tuple]:
    rows = []
    for (indicator, source), cells in MART.items():
        for breakdown, group, num, den, value, suppressed in cells:
            low = high = None
            if value is None:  # a proportion
                value = num / den
                if indicator != "admin_share_of_months_employed":
                    low, high = _wilson(value, den)
            if suppressed is None:
                suppressed = (num if indicator == "graduates" else den) < 5
            rows.append(
                (2019, "m6", indicator, source, breakdown, group, num, den, value, low, high, suppressed)
            )
    return rows


def create_mart(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists marts")
    con.execute(
        """create or replace table marts.indicators (cohort integer, wave varchar, indicator varchar,
           source varchar, breakdown varchar, breakdown_value varchar, numerator double,
           denominator double, value double, ci_low double, ci_high double, suppressed boolean)"""
    )
    con.executemany("insert into marts.indicators values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", mart_rows())


@pytest.fixture
def mart() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    create_mart(con)
    yield con
    con.close()


def test_mart_passes_including_non_proportions_above_1(mart):
    for outcome in (
        suites.check_indicator_values(mart),
        suites.check_indicator_suppression(mart, 5),
        suites.check_indicator_breakdowns(mart),
    ):
        assert outcome.success, outcome.markdown()
    assert mart.execute("select max(value) from marts.indicators").fetchall()[0][0] == 10


WHERE = "where indicator = '{}' and breakdown = '{}' and breakdown_value = '{}'"


def break_mart(con: duckdb.DuckDBPyConnection, faults: list[tuple[tuple[str, str, str], str, set]]) -> dict:
    """Apply each `set ...` to its own row; returns the row's label -> the rules it must fail."""
    expected = {}
    for (indicator, breakdown, group), assignments, rules in faults:
        con.execute(f"update marts.indicators set {assignments} " + WHERE.format(indicator, breakdown, group))
        source = next(src for ind, src in MART if ind == indicator)
        expected[f"2019 m6 {indicator} {source} {breakdown} {group}"] = rules
    return expected


def assert_rows_fail(outcome: suites.SuiteOutcome, expected: dict) -> None:
    assert failed(outcome) == set().union(*expected.values()), outcome.markdown()
    for label, rules in expected.items():
        for rule in rules:
            assert label in outcome.outcome(rule).rows, (label, rule, outcome.outcome(rule).rows)


def test_indicator_value_rules_each_fail_on_their_bad_row(mart):
    expected = break_mart(
        mart,
        [
            (
                ("response_rate", "sex", "F"),
                "value = 1.2",
                {"proportion_value_between_0_and_1", "value_not_above_ci_high"},
            ),
            (
                ("response_rate", "school", "B"),
                "value = -0.2, ci_low = -0.3",
                {"proportion_value_between_0_and_1", "ci_low_between_0_and_1"},
            ),
            (
                ("admin_share_of_months_employed", "total", "all"),
                "value = 1.3",
                {"proportion_value_between_0_and_1"},
            ),
            (("median_minutes_to_complete", "sex", "M"), "value = -1", {"median_value_not_negative"}),
            (
                ("nonresponse_gap_employment", "sex", "M"),
                "value = 1.5",
                {"difference_value_between_-1_and_1"},
            ),
            (("graduates", "total", "all"), "value = 11", {"count_value_equals_numerator"}),
            (("response_rate", "sex", "M"), "numerator = 5", {"numerator_not_above_denominator"}),
            (("response_rate", "total", "all"), "ci_low = 0.7", {"ci_low_not_above_value"}),
            (("completion_rate", "total", "all"), "ci_high = 0.55", {"value_not_above_ci_high"}),
            (("completion_rate", "sex", "M"), "ci_high = 1.01", {"ci_high_between_0_and_1"}),
        ],
    )
    assert_rows_fail(suites.check_indicator_values(mart), expected)


def test_ci_compares_with_the_value_rounded_like_the_bounds(mart):
    # value 0.4999996 against a lower bound rounded up to 0.5: not an error of the interval
    mart.execute(
        "update marts.indicators set value = 0.4999996, ci_low = 0.5 "
        + WHERE.format("response_rate", "sex", "M")
    )
    assert suites.check_indicator_values(mart).success


def test_suppression_rules_each_fail_on_their_bad_row(mart):
    expected = break_mart(
        mart,
        [
            (("response_rate", "sex", "M"), "suppressed = false", {"suppressed_where_base_below_5"}),
            (("response_rate", "total", "all"), "suppressed = true", {"published_where_base_at_least_5"}),
            (("graduates", "sex", "M"), "suppressed = false", {"suppressed_where_base_below_5"}),
            (
                ("median_minutes_to_complete", "sex", "M"),
                "suppressed = false",
                {"suppressed_where_base_below_5"},
            ),
            (
                ("nonresponse_gap_employment", "sex", "M"),
                "suppressed = false",
                {"difference_suppressed_where_denominator_below_5"},
            ),
            (("employed_share", "total", "all"), "suppressed = null", {"suppressed_not_null"}),
        ],
    )
    assert_rows_fail(suites.check_indicator_suppression(mart, 5), expected)


def test_suppression_threshold_defaults_to_dbt_var_and_follows_the_setting(monkeypatch):
    monkeypatch.delenv("GRADTRACK_SUPPRESSION_THRESHOLD", raising=False)
    assert settings.suppression_threshold() == 5
    monkeypatch.setenv("GRADTRACK_SUPPRESSION_THRESHOLD", "10")
    assert settings.suppression_threshold() == 10
    monkeypatch.setenv("GRADTRACK_SUPPRESSION_THRESHOLD", "0")
    with pytest.raises(ValueError, match="positive integer"):
        settings.suppression_threshold()


def test_suppression_follows_the_threshold(mart):
    # Bases of 4 were suppressed under the threshold 5; under 4 they must be published.
    assert failed(suites.check_indicator_suppression(mart, 4)) == {"published_where_base_at_least_4"}


@pytest.mark.parametrize(
    ("sql", "rules"),
    [
        (
            "update marts.indicators set denominator = 7 " + WHERE.format("response_rate", "sex", "F"),
            {"group_denominators_sum_to_total"},
        ),
        (
            "update marts.indicators set numerator = 3 " + WHERE.format("response_rate", "school", "A"),
            {"group_numerators_sum_to_total"},
        ),
        (
            "update marts.indicators set numerator = 12 " + WHERE.format("graduates", "school", "B"),
            {"group_numerators_sum_to_total"},
        ),
        (
            "update marts.indicators set denominator = 3 "
            + WHERE.format("nonresponse_gap_employment", "sex", "M"),
            {"group_denominators_sum_to_total"},
        ),
        (
            "update marts.indicators set denominator = 3.5 " + WHERE.format("employed_share", "sex", "M"),
            {"group_denominators_sum_to_total"},
        ),
        (
            "delete from marts.indicators " + WHERE.format("admin_share_of_months_employed", "sex", "F"),
            {"group_denominators_sum_to_total", "group_numerators_sum_to_total"},
        ),
        (
            "delete from marts.indicators where indicator = 'response_rate' and breakdown = 'school'",
            {"group_denominators_sum_to_total", "group_numerators_sum_to_total"},
        ),
        # response paradata: a response may name no school, so schools may cover fewer responses
        # than the total but never more ...
        (
            "update marts.indicators set denominator = 9 " + WHERE.format("completion_rate", "school", "A"),
            {"group_denominators_within_total_for_response_paradata"},
        ),
        # ... and the same for the graduate attributes.
        (
            "update marts.indicators set denominator = 8 " + WHERE.format("completion_rate", "sex", "F"),
            {"group_denominators_within_total_for_response_paradata"},
        ),
        (
            "insert into marts.indicators select * from marts.indicators "
            + WHERE.format("graduates", "total", "all"),
            {"one_total_row", "group_numerators_sum_to_total"},
        ),
    ],
)
def test_breakdown_rule_fails(mart, sql, rules):
    mart.execute(sql)
    outcome = suites.check_indicator_breakdowns(mart)
    assert failed(outcome) == rules, outcome.markdown()


def test_breakdown_sums_are_small_and_name_the_gap(mart):
    mart.execute("update marts.indicators set denominator = 7 " + WHERE.format("response_rate", "sex", "F"))
    frame = mart.execute(suites.breakdown_sums_sql()).df()
    assert len(frame) == len(MART) * 2  # one row per indicator, source and breakdown
    bad = suites.check_indicator_breakdowns(mart).outcome("group_denominators_sum_to_total")
    assert bad.examples == [1.0] and bad.rows == ["2019 m6 response_rate survey sex"]


# ---------------------------------------------------------------- Dagster


def _resources(warehouse: Path, landing: Path | None = None) -> dict:
    resources: dict = {"duckdb": DuckDBResource(database=str(warehouse))}
    if landing is not None:
        resources["landing"] = LandingFolder(path=str(landing))
        resources["pseudonym_key"] = PseudonymKeyResource(key=TEST_KEY)
    return resources


def _evaluations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}


def test_input_checks_pass_then_a_bad_register_blocks_everything_downstream(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    generate(landing, graduates=200, cohorts=[2019], seed=5)
    assets = [*ingestion_assets, *input_checks]

    first = dg.materialize(assets, resources=_resources(warehouse, landing), partition_key="2019")
    assert first.success
    evaluations = _evaluations(first)
    assert len(evaluations) == len(input_checks) == 8
    assert all(e.passed for e in evaluations.values()), {k: e.description for k, e in evaluations.items()}
    register = evaluations[("raw/register", "register_valid")]
    assert register.metadata["rows_validated"].value > 190
    assert register.metadata["failing_expectations"].value == "none"

    # A bad code lands in raw.register behind the loader's back; the next run's check catches it.
    con = duckdb.connect(str(warehouse))
    bad_rows = con.execute("select count(*) from raw.register where _source_line = 2").fetchall()[0][0]
    con.execute("update raw.register set sex = 'Q' where _source_line = 2")
    con.close()
    second = dg.materialize(
        assets, resources=_resources(warehouse, landing), partition_key="2019", raise_on_error=False
    )
    assert not second.success
    evaluation = _evaluations(second)[("raw/register", "register_valid")]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["failing_expectations"].value == "sex_in_codebook"
    # The description (which `gradtrack run` prints) says where to look: file and line.
    where = evaluation.description.split("sex_in_codebook at ", 1)[1].split(", ")
    assert where and all(w.startswith("register/") and w.endswith(".csv:2") for w in where), where
    assert evaluation.metadata["unexpected_counts"].value == {"sex_in_codebook": bad_rows}
    assert "| **FAIL** | sex_in_codebook |" in evaluation.metadata["results"].value
    materialized = {e.asset_key.to_user_string() for e in second.get_asset_materialization_events()}
    assert materialized == {"raw/register"}  # surveys, spells and context never ran
    started = {e.step_key for e in second.all_events if e.event_type_value == "STEP_START"}
    assert not any("survey" in s or "employment" in s for s in started)


@pytest.fixture
def mart_warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "mart.duckdb"
    con = duckdb.connect(str(path))
    create_mart(con)
    # The privacy scan needs the restricted identifiers; one graduate is enough.
    con.execute("create schema restricted")
    con.execute(
        """create table restricted.register_identifiers as select 'X1234567Z' as national_id,
           'ana.garcia@example.org' as email_norm, '600111222' as phone_norm, 'Ana' as first_name,
           'García' as last_name, 'ana' as first_name_norm, 'garcia' as last_name_norm"""
    )
    con.close()
    return path


@dg.asset(key=["marts", "indicators"])
def indicators_stub() -> None:
    """Stands in for the dbt model: the checks read the table the test wrote."""


def test_mart_checks_in_dagster_pass_then_a_leak_fails_the_run(mart_warehouse):
    ok = dg.materialize([indicators_stub, *mart_checks], resources=_resources(mart_warehouse))
    assert ok.success
    evaluations = _evaluations(ok)
    assert {name for _, name in evaluations} == {
        "values_valid",
        "suppression_consistent",
        "breakdowns_add_up",
        "no_personal_values_outside_restricted",
    }
    assert all(e.passed for e in evaluations.values())
    assert evaluations[("marts/indicators", "values_valid")].metadata["expectations_evaluated"].value == 9

    con = duckdb.connect(str(mart_warehouse))
    con.execute("create table marts.contacts as select 'Ana.Garcia@example.org ' as note")
    con.execute(
        "update marts.indicators set suppressed = false where breakdown = 'sex' and breakdown_value = 'M'"
    )
    con.close()
    bad = dg.materialize(
        [indicators_stub, *mart_checks], resources=_resources(mart_warehouse), raise_on_error=False
    )
    assert not bad.success  # a failed blocking check fails the run: gradtrack run keeps the old warehouse
    evaluations = _evaluations(bad)
    leak = evaluations[("marts/indicators", "no_personal_values_outside_restricted")]
    assert not leak.passed and leak.metadata["leaking_columns"].value == 1
    assert "marts.contacts | note | 1" in leak.metadata["leaks"].value
    assert "example.org" not in leak.metadata["leaks"].value  # where, never what
    suppression = evaluations[("marts/indicators", "suppression_consistent")]
    assert not suppression.passed
    assert "suppressed_where_base_below_5" in suppression.metadata["failing_expectations"].value
    assert evaluations[("marts/indicators", "values_valid")].passed


def test_missing_table_fails_the_check_with_a_reason(tmp_path):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    result = dg.materialize(
        [indicators_stub, *mart_checks[:1]], resources=_resources(empty), raise_on_error=False
    )
    evaluation = _evaluations(result)[("marts/indicators", "values_valid")]
    assert not evaluation.passed and evaluation.description == "table missing"
