"""Great Expectations 1.x suites for the warehouse, as plain functions over a DuckDB connection.

No Dagster here: `checks.py` wraps these functions as asset checks, the tests call them directly.
GX works on pandas DataFrames (its SQL datasource on DuckDB is broken, GX issue #11579), so every
suite reads only the columns it needs with SQL, derives per-row quantities that depend on another
column (age at graduation, year offsets) or pre-aggregates where the rule is about groups, and lets
GX validate the resulting frame. `great_expectations` and pandas are imported inside the functions:
importing them takes seconds and the code location must load fast.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ingestion.contract import (
    CODEBOOK,
    MULTI_CHOICE,
    POST_GRADUATION_ITEMS,
    PRE_GRADUATION_ITEMS,
    WAVES,
)

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    from great_expectations.expectations import Expectation

LINEAGE = ("_source_file", "_source_line")  # how a raw row is shown: the landing file and its line
INDICATOR_KEY = ("cohort", "wave", "indicator", "source", "breakdown", "breakdown_value")
EXAMPLES = 5  # unexpected values / rows shown per failing expectation

# Register: the contract says cohort = graduation year, but schools that label cohorts by academic
# year, extraordinary exam sessions and deferred work placements put real graduations in the next
# calendar year; a year before the cohort or two after it is a typo in one of the two columns.
GRADUATION_YEAR_OFFSET = (0, 1)
AGE_AT_GRADUATION = (14, 70)  # vocational graduates: youngest initial VET at 14-15, adult learners
# Surveys: no online survey answered before this date belongs in the warehouse; later is the future.
EARLIEST_SURVEY = datetime(2000, 1, 1)
# Fieldwork window per wave, in calendar years relative to the register's cohorts: pre_graduation
# runs 2-3 months before graduation (graduation may fall in cohort+1), m6 and m18 after the
# reference dates graduation + 6 / + 18 months, with a year's slack for late fieldwork.
FIELDWORK_YEARS: dict[str, tuple[int, int]] = {
    "pre_graduation": (-1, 1),
    "m6": (0, 2),
    "m18": (1, 3),
}

# marts.indicators: which indicators are not proportions, by the naming of the catalogue.
COUNT_INDICATORS = ("graduates",)
MEDIAN_PREFIXES = ("median_", "admin_median_")
DIFFERENCE_PREFIXES = ("nonresponse_gap_",)
# Indicators whose suppression base is not their denominator (the catalogue's definition): the
# months share counts months over the admin base of graduates.
BASE_NOT_DENOMINATOR = ("admin_share_of_months_employed",)
# Response paradata count every response, linked or not; an unlinked response carries at most the
# school it names (an abandoned one often none), so every breakdown covers a subset of the total.
RESPONSE_BASED = ("completion_rate", "median_minutes_to_complete")
PARTITION_BREAKDOWNS = (
    "school",
    "country",
    "region",
    "sector_group",
    "professional_family",
    "qualification",
    "eqf_level",
    "sex",
)
# Sums of group counts are exact; weighted sums are rounded to 6 decimals per row, so 20 000 groups
# stay within 0.01 while a real discrepancy is at least one graduate or one survey weight.
SUM_TOLERANCE = 0.01
FLOAT_TOLERANCE = 1e-9  # weighted shares are ratios of floating sums


@dataclass(frozen=True)
class Rule:
    """One expectation with a readable name; `show_values` False hides the values it finds."""

    name: str
    expectation: Expectation
    show_values: bool = True


@dataclass
class RuleOutcome:
    """What one expectation found, reduced to what a reader of the Dagster UI needs."""

    name: str
    expectation_type: str
    columns: str
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    examples: list[Any] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)
    observed: Any = None
    error: str | None = None


@dataclass
class SuiteOutcome:
    """The validation of one frame against one suite."""

    suite: str
    rows: int
    outcomes: list[RuleOutcome]
    seconds: float
    read_seconds: float = 0.0
    note: str | None = None

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes)

    @property
    def failed(self) -> list[RuleOutcome]:
        return [o for o in self.outcomes if not o.success]

    def outcome(self, name: str) -> RuleOutcome:
        return next(o for o in self.outcomes if o.name == name)

    def markdown(self) -> str:
        """One line per expectation, failures first: what a reader of the check wants to see."""
        lines = [
            "| result | rule | expectation | column(s) | unexpected | examples | rows |",
            "|---|---|---|---|---|---|---|",
        ]
        for o in sorted(self.outcomes, key=lambda o: o.success):
            unexpected = "" if o.unexpected_count is None else f"{o.unexpected_count}"
            if o.unexpected_percent:
                unexpected += f" ({o.unexpected_percent:.2g} %)"
            examples = ", ".join(
                _cell(" vs ".join(map(str, v)) if isinstance(v, list) else v) for v in o.examples
            )
            if o.error:
                examples = f"error: {_cell(o.error)}"
            elif o.observed is not None and not o.examples:
                examples = f"observed {_cell(o.observed)}"
            status = "pass" if o.success else "**FAIL**"
            lines.append(
                f"| {status} | {o.name} | {o.expectation_type} | {o.columns} | {unexpected} | {examples} "
                f"| {'; '.join(_cell(r) for r in o.rows)} |"
            )
        return "\n".join(lines)


def _cell(value: Any) -> str:
    return str(value).replace("|", "/").replace("\n", " ")[:120]


def _row_label(row: dict[str, Any], index_columns: Sequence[str]) -> str:
    if tuple(index_columns) == LINEAGE:
        return f"{row.get('_source_file')}:{row.get('_source_line')}"
    return " ".join(f"{row.get(c)}" for c in index_columns)


def validate_frame(
    df: pd.DataFrame, suite_name: str, rules: Sequence[Rule], index_columns: Sequence[str] = ()
) -> SuiteOutcome:
    """Validate `df` against `rules` with an ephemeral GX context (nothing written to disk)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    started = time.perf_counter()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    by_name = {r.name: r for r in rules}
    suite = gx.ExpectationSuite(name=suite_name)
    for rule in rules:
        rule.expectation.meta = {**(rule.expectation.meta or {}), "rule": rule.name}
        suite.add_expectation(rule.expectation)
    suite = context.suites.add(suite)
    batch = (
        context.data_sources.add_pandas(f"{suite_name}_frames")
        .add_dataframe_asset(suite_name)
        .add_batch_definition_whole_dataframe("whole_frame")
    )
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite_name}_validation", data=batch, suite=suite)
    )
    # 20 unexpected values sampled, of which the first EXAMPLES distinct ones are shown.
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 20}
    if index_columns:
        result_format["unexpected_index_column_names"] = list(index_columns)
    result = validation.run(batch_parameters={"dataframe": df}, result_format=result_format)

    outcomes = []
    for r in result.results:
        config = r.expectation_config
        rule = by_name[config.meta["rule"]]
        kwargs = config.kwargs
        columns = kwargs.get("column") or ", ".join(
            str(kwargs[k]) for k in ("column_A", "column_B", "column_list") if kwargs.get(k)
        )
        res = r.result or {}
        error = None
        if r.exception_info and r.exception_info.get("raised_exception"):
            error = str(r.exception_info.get("exception_message"))
        rows = [_row_label(row, index_columns) for row in res.get("partial_unexpected_index_list") or []]
        outcomes.append(
            RuleOutcome(
                name=rule.name,
                expectation_type=config.type,
                columns=str(columns),
                success=bool(r.success),
                element_count=res.get("element_count"),
                unexpected_count=res.get("unexpected_count"),
                unexpected_percent=res.get("unexpected_percent"),
                examples=_distinct(_plain(res.get("partial_unexpected_list") or []))
                if rule.show_values
                else [],
                rows=rows[:EXAMPLES],
                observed=_plain(res.get("observed_value")) if rule.show_values else None,
                error=error,
            )
        )
    return SuiteOutcome(suite_name, len(df), outcomes, time.perf_counter() - started)


def _plain(value: Any) -> Any:
    """numpy / pandas scalars to plain Python (dates as ISO text), so metadata serialises cleanly."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if type(value).__name__ == "datetime64":  # numpy ns timestamps: .item() would give an int
        import pandas as pd

        value = pd.Timestamp(value).to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str | datetime | date):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat().removesuffix("T00:00:00")
    return value


def _distinct(values: list[Any]) -> list[Any]:
    """The first EXAMPLES distinct values, in the order GX found them."""
    seen: list[Any] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen[:EXAMPLES]


def _read(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[pd.DataFrame, float]:
    """The query as a DataFrame in the dtypes GX validates fast (measured on 1M rows).

    Text as categoricals (codes repeat: compact, isin is cheap), timestamps as datetime64[ns] and
    integers as int64, which GX compares vectorised; other dtypes fall back to a Python loop per
    value (10x slower).
    """
    import pandas as pd

    started = time.perf_counter()
    df = con.sql(sql).to_arrow_table().to_pandas(strings_to_categorical=True)
    for name, dtype in df.dtypes.items():
        if pd.api.types.is_datetime64_dtype(dtype) and dtype != "datetime64[ns]":
            df[name] = df[name].astype("datetime64[ns]")
        elif pd.api.types.is_integer_dtype(dtype) and dtype != "int64":
            df[name] = df[name].astype("int64")
    return df, time.perf_counter() - started


def _timestamp(column: str) -> str:
    """A timestamp clipped to what datetime64[ns] holds; a clipped value still fails any window."""
    value = f"cast({column} as timestamp)"  # greatest/least skip nulls: keep them null
    return (
        f"case when {column} is not null then least(greatest({value}, timestamp '1678-01-01'), "
        f"timestamp '2261-12-31') end as {column}"
    )


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


def _codes_regex(codes: Sequence[str]) -> str:
    """`a;b` lists of codes from the codebook (multi-choice answers are stored sorted, `;`-joined)."""
    one = "(?:" + "|".join(re.escape(c) for c in codes) + ")"
    return f"^{one}(?:;{one})*$"


def _code_rules(columns: Sequence[str]) -> list[Rule]:
    import great_expectations.expectations as gxe

    rules = []
    for column in columns:
        codes = CODEBOOK[column]
        if column in MULTI_CHOICE:
            expectation = gxe.ExpectColumnValuesToMatchRegex(column=column, regex=_codes_regex(codes))
        else:
            expectation = gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(codes))
        rules.append(Rule(f"{column}_in_codebook", expectation))
    return rules


def _varchar(columns: Sequence[str]) -> str:
    """Code columns as text: integer-typed codes (eqf_level, 1-5 scales) compare with the codebook."""
    return ", ".join(f"cast({c} as varchar) as {c}" for c in columns)


# ---------------------------------------------------------------- raw.register


def register_rules() -> list[Rule]:
    """Codes, dates and the one-row-per-graduate grain of the register."""
    import great_expectations.expectations as gxe

    low, high = GRADUATION_YEAR_OFFSET
    youngest, oldest = AGE_AT_GRADUATION
    return [
        Rule("graduate_key_not_null", gxe.ExpectColumnValuesToNotBeNull(column="graduate_key"), False),
        # graduate_key = HMAC(school_code, student_id): unique key = one row per (school, student).
        Rule("graduate_key_unique", gxe.ExpectColumnValuesToBeUnique(column="graduate_key"), False),
        *[
            Rule(f"{c}_not_null", gxe.ExpectColumnValuesToNotBeNull(column=c))
            for c in ("sex", "sector_group", "eqf_level", "cohort", "graduation_date")
        ],
        *_code_rules(("sex", "sector_group", "eqf_level", "language")),
        Rule(
            "graduation_date_in_cohort_year_or_next",
            gxe.ExpectColumnValuesToBeBetween(
                column="graduation_year_minus_cohort", min_value=low, max_value=high
            ),
        ),
        # Derived from the birth date (personal data): show where, never the value.
        Rule(
            "age_at_graduation_plausible",
            gxe.ExpectColumnValuesToBeBetween(
                column="age_at_graduation", min_value=youngest, max_value=oldest
            ),
            show_values=False,
        ),
    ]


def check_register(con: duckdb.DuckDBPyConnection) -> SuiteOutcome:
    """raw.register: the population frame every indicator is a share of."""
    df, read = _read(
        con,
        f"""select graduate_key, {_varchar(("sex", "sector_group", "eqf_level", "language"))},
                   cohort, graduation_date,
                   year(graduation_date) - cohort as graduation_year_minus_cohort,
                   year(graduation_date) - birth_year as age_at_graduation,
                   {", ".join(LINEAGE)}
            from raw.register""",
    )
    outcome = validate_frame(df, "raw_register", register_rules(), LINEAGE)
    outcome.read_seconds = read
    return outcome


# ---------------------------------------------------------------- raw.survey_<wave>


def wave_items(wave: str) -> tuple[str, ...]:
    """The coded items of a wave's questionnaire (data contract, surveys)."""
    if wave not in WAVES:
        raise ValueError(f"unknown wave {wave!r}")
    items = PRE_GRADUATION_ITEMS if wave == "pre_graduation" else POST_GRADUATION_ITEMS
    return ("language", *items, "relevant_skills", "wish_learned_more", "alumni_contribution")


def survey_rules(wave: str, now: datetime | None = None) -> list[Rule]:
    """Keys, paradata order, absolute timestamp plausibility and the codes of the wave's items."""
    import great_expectations.expectations as gxe

    latest = (now or datetime.now()) + timedelta(days=1)
    return [
        Rule("response_key_not_null", gxe.ExpectColumnValuesToNotBeNull(column="response_key"), False),
        Rule("response_key_unique", gxe.ExpectColumnValuesToBeUnique(column="response_key"), False),
        Rule("wave_matches_table", gxe.ExpectColumnValuesToBeInSet(column="wave", value_set=[wave])),
        Rule(
            "started_at_not_after_submitted_at",
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="submitted_at",
                column_B="started_at",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
        ),
        *[
            Rule(
                f"{c}_between_2000_and_now",
                gxe.ExpectColumnValuesToBeBetween(column=c, min_value=EARLIEST_SURVEY, max_value=latest),
            )
            for c in ("started_at", "submitted_at")
        ],
        *_code_rules(wave_items(wave)),
    ]


def check_survey(con: duckdb.DuckDBPyConnection, wave: str, now: datetime | None = None) -> SuiteOutcome:
    """raw.survey_<wave>: one row per response, answers as canonical codes."""
    df, read = _read(
        con,
        f"""select response_key, wave, {_timestamp("started_at")}, {_timestamp("submitted_at")},
                   {_varchar(wave_items(wave))},
                   {", ".join(LINEAGE)}
            from raw.survey_{wave}""",
    )
    outcome = validate_frame(df, f"raw_survey_{wave}", survey_rules(wave, now), LINEAGE)
    outcome.read_seconds = read
    return outcome


def fieldwork_window(wave: str, cohorts: tuple[int, int]) -> tuple[datetime, datetime]:
    """First and last plausible start of a wave's fieldwork for the register's cohort range."""
    low, high = FIELDWORK_YEARS[wave]
    return datetime(cohorts[0] + low, 1, 1), datetime(cohorts[1] + high + 1, 1, 1) - timedelta(microseconds=1)


def check_survey_fieldwork(con: duckdb.DuckDBPyConnection, wave: str) -> SuiteOutcome:
    """started_at within the wave's fieldwork window for the cohorts of the register."""
    import great_expectations.expectations as gxe

    cohorts = None
    if table_exists(con, "raw", "register"):
        cohorts = con.execute("select min(cohort), max(cohort) from raw.register").fetchall()[0]
    df, read = _read(con, f"select {_timestamp('started_at')}, {', '.join(LINEAGE)} from raw.survey_{wave}")
    if not cohorts or cohorts[0] is None:
        note = "no register cohorts loaded: nothing to compare the fieldwork dates with"
        return SuiteOutcome(f"raw_survey_{wave}_fieldwork", len(df), [], 0.0, read, note)
    first, last = fieldwork_window(wave, (cohorts[0], cohorts[1]))
    rule = Rule(
        f"started_at_in_{wave}_fieldwork_of_cohorts_{cohorts[0]}_{cohorts[1]}",
        gxe.ExpectColumnValuesToBeBetween(column="started_at", min_value=first, max_value=last),
    )
    outcome = validate_frame(df, f"raw_survey_{wave}_fieldwork", [rule], LINEAGE)
    outcome.read_seconds = read
    outcome.note = f"window {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    return outcome


# ---------------------------------------------------------------- raw.employment_spells


def spells_rules() -> list[Rule]:
    """Spell order, the admin contract codebook and the part-time share range."""
    import great_expectations.expectations as gxe

    return [
        Rule("spell_key_unique", gxe.ExpectColumnValuesToBeUnique(column="spell_key"), False),
        Rule("spell_start_not_null", gxe.ExpectColumnValuesToNotBeNull(column="spell_start")),
        Rule(
            "spell_start_not_after_spell_end",
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="spell_end",
                column_B="spell_start",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
        ),
        Rule("contract_type_not_null", gxe.ExpectColumnValuesToNotBeNull(column="contract_type")),
        Rule(
            "contract_type_in_admin_codebook",
            gxe.ExpectColumnValuesToBeInSet(
                column="contract_type", value_set=list(CODEBOOK["admin_contract_type"])
            ),
        ),
        Rule(
            "part_time_pct_between_0_and_100",
            gxe.ExpectColumnValuesToBeBetween(column="part_time_pct", min_value=0, max_value=100),
        ),
    ]


def check_spells(con: duckdb.DuckDBPyConnection) -> SuiteOutcome:
    """raw.employment_spells: the administrative records behind every admin indicator."""
    df, read = _read(
        con,
        f"""select spell_key, {_timestamp("spell_start")}, {_timestamp("spell_end")}, contract_type,
                   part_time_pct,
                   {", ".join(LINEAGE)}
            from raw.employment_spells""",
    )
    outcome = validate_frame(df, "raw_employment_spells", spells_rules(), LINEAGE)
    outcome.read_seconds = read
    return outcome


# ---------------------------------------------------------------- marts.indicators


def _in_list(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _kind_sql() -> str:
    """count / median / difference / proportion from the indicator code (catalogue naming)."""
    medians = " or ".join(f"starts_with(indicator, '{p}')" for p in MEDIAN_PREFIXES)
    differences = " or ".join(f"starts_with(indicator, '{p}')" for p in DIFFERENCE_PREFIXES)
    return f"""case when indicator in ({_in_list(COUNT_INDICATORS)}) then 'count'
                    when {medians} then 'median'
                    when {differences} then 'difference'
                    else 'proportion' end"""


def indicator_value_rules() -> list[Rule]:
    """Ranges by kind of indicator, numerator <= denominator, the CI around the value."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    kind = Column("kind")
    return [
        Rule(
            "proportion_value_between_0_and_1",
            gxe.ExpectColumnValuesToBeBetween(
                column="value",
                min_value=-FLOAT_TOLERANCE,
                max_value=1 + FLOAT_TOLERANCE,
                row_condition=kind == "proportion",
            ),
        ),
        Rule(
            "median_value_not_negative",
            gxe.ExpectColumnValuesToBeBetween(column="value", min_value=0, row_condition=kind == "median"),
        ),
        Rule(
            "difference_value_between_-1_and_1",
            gxe.ExpectColumnValuesToBeBetween(
                column="value", min_value=-1, max_value=1, row_condition=kind == "difference"
            ),
        ),
        Rule(
            "count_value_equals_numerator",
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="value", column_B="numerator", row_condition=kind == "count"
            ),
        ),
        Rule(
            "numerator_not_above_denominator",
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="denominator",
                column_B="numerator",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
        ),
        *[
            Rule(
                f"{c}_between_0_and_1",
                gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=1),
            )
            for c in ("ci_low", "ci_high")
        ],
        # The bounds are rounded to 6 decimals; rounding is monotone, so compare the value rounded alike.
        Rule(
            "ci_low_not_above_value",
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="value_6dp",
                column_B="ci_low",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
        ),
        Rule(
            "value_not_above_ci_high",
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="ci_high",
                column_B="value_6dp",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
        ),
    ]


def check_indicator_values(con: duckdb.DuckDBPyConnection) -> SuiteOutcome:
    """marts.indicators, row by row: every published number within what its definition allows."""
    df, read = _read(
        con,
        f"""select {", ".join(INDICATOR_KEY)}, {_kind_sql()} as kind,
                   numerator, denominator, value, round(value, 6) as value_6dp, ci_low, ci_high
            from marts.indicators""",
    )
    outcome = validate_frame(df, "marts_indicators_values", indicator_value_rules(), INDICATOR_KEY)
    outcome.read_seconds = read
    return outcome


def suppression_rules(threshold: float) -> list[Rule]:
    """suppressed = (base < threshold) where the base is in the table; a lower bound elsewhere."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    base = Column("suppression_base")
    return [
        Rule("suppressed_not_null", gxe.ExpectColumnValuesToNotBeNull(column="suppressed")),
        Rule(
            f"suppressed_where_base_below_{threshold:g}",
            gxe.ExpectColumnValuesToBeInSet(
                column="suppressed", value_set=[True], row_condition=base < threshold
            ),
        ),
        Rule(
            f"published_where_base_at_least_{threshold:g}",
            gxe.ExpectColumnValuesToBeInSet(
                column="suppressed", value_set=[False], row_condition=base >= threshold
            ),
        ),
        # The non-response gap's base is the smaller of two groups whose sum is the denominator.
        Rule(
            f"difference_suppressed_where_denominator_below_{threshold:g}",
            gxe.ExpectColumnValuesToBeInSet(
                column="suppressed",
                value_set=[True],
                row_condition=(Column("kind") == "difference") & (Column("denominator") < threshold),
            ),
        ),
    ]


def check_indicator_suppression(con: duckdb.DuckDBPyConnection, threshold: float) -> SuiteOutcome:
    """marts.indicators: the disclosure flag agrees with the size of the base it protects.

    The base is the denominator for unweighted proportions and medians and the count itself for
    `graduates`; survey_weighted rows and the months share carry their base outside the table.
    """
    df, read = _read(
        con,
        f"""with rows_ as (select *, {_kind_sql()} as kind from marts.indicators)
            select {", ".join(INDICATOR_KEY)}, kind, denominator, suppressed,
                   case when kind = 'count' then numerator
                        when kind in ('proportion', 'median') and source <> 'survey_weighted'
                             and indicator not in ({_in_list(BASE_NOT_DENOMINATOR)}) then denominator
                   end as suppression_base
            from rows_""",
    )
    outcome = validate_frame(df, "marts_indicators_suppression", suppression_rules(threshold), INDICATOR_KEY)
    outcome.read_seconds = read
    return outcome


BREAKDOWN_KEY = ("cohort", "wave", "indicator", "source", "breakdown")


def breakdown_sums_sql() -> str:
    """Per cohort, wave, indicator, source and partitioning breakdown: the groups' sums beside the
    total's. Every total meets every breakdown published for its cohort and wave, so an indicator
    missing a breakdown altogether shows as a gap too."""
    return f"""
        with rows_ as (
            select cohort, wave, indicator, source, breakdown, numerator, denominator
            from marts.indicators
        ),
        totals as (
            select cohort, wave, indicator, source, count(*) as total_rows,
                   sum(numerator) as total_numerator, sum(denominator) as total_denominator
            from rows_ where breakdown = 'total' group by all
        ),
        groups_ as (
            select cohort, wave, indicator, source, breakdown, count(*) as groups,
                   sum(numerator) as group_numerator, sum(denominator) as group_denominator
            from rows_ where breakdown in ({_in_list(PARTITION_BREAKDOWNS)}) group by all
        ),
        published as (select distinct cohort, wave, breakdown from groups_),
        keys as (
            select cohort, wave, indicator, source, breakdown
            from totals inner join published using (cohort, wave)
            union
            select cohort, wave, indicator, source, breakdown from groups_
        )
        select k.cohort, k.wave, k.indicator, k.source, k.breakdown,
               case when k.indicator in ({_in_list(RESPONSE_BASED)})
                    then 'subset' else 'partition' end as coverage,
               coalesce(t.total_rows, 0) as total_rows,
               coalesce(g.groups, 0) as groups,
               t.total_denominator, g.group_denominator,
               coalesce(g.group_denominator, 0) - t.total_denominator as denominator_gap,
               t.total_numerator, g.group_numerator,
               coalesce(g.group_numerator, 0) - t.total_numerator as numerator_gap
        from keys as k
        left join totals as t using (cohort, wave, indicator, source)
        left join groups_ as g using (cohort, wave, indicator, source, breakdown)
    """


def breakdown_rules() -> list[Rule]:
    """Groups partition the total: their denominators and numerators add up to the total's."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    coverage = Column("coverage")
    rules = [Rule("one_total_row", gxe.ExpectColumnValuesToBeInSet(column="total_rows", value_set=[1]))]
    for measure in ("denominator", "numerator"):
        rules += [
            Rule(
                f"group_{measure}s_sum_to_total",
                gxe.ExpectColumnValuesToBeBetween(
                    column=f"{measure}_gap",
                    min_value=-SUM_TOLERANCE,
                    max_value=SUM_TOLERANCE,
                    row_condition=coverage == "partition",
                ),
            ),
            Rule(
                f"group_{measure}s_within_total_for_response_paradata",
                gxe.ExpectColumnValuesToBeBetween(
                    column=f"{measure}_gap", max_value=SUM_TOLERANCE, row_condition=coverage == "subset"
                ),
            ),
        ]
    return rules


def check_indicator_breakdowns(con: duckdb.DuckDBPyConnection) -> SuiteOutcome:
    """marts.indicators: every breakdown tells the same story as the total (aggregated in SQL)."""
    df, read = _read(con, breakdown_sums_sql())
    outcome = validate_frame(df, "marts_indicators_breakdowns", breakdown_rules(), BREAKDOWN_KEY)
    outcome.read_seconds = read
    return outcome
