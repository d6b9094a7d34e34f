"""The Asturias 2019 fixture reproduces the pilot's published figures.

The landing files are read back with DuckDB's CSV reader, as they are (Latin-1, `;`, all VARCHAR), and
every count of `expected.yaml` is recomputed with SQL written here, independently of the builder, in
both identifier modes (the noisy responses are linked by e-mail and by name + birth date) and both admin
layouts (the TGSS's own columns, or the SEPE key in `contract_type`). Then the expected counts are
checked against the percentages as printed in the protocol.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest
import yaml

from ingestion import contract
from tests.fixtures.asturias2019 import build

FIXTURE_DIR = Path(__file__).parent / "fixtures" / "asturias2019"
EXPECTED = yaml.safe_load((FIXTURE_DIR / "expected.yaml").read_text(encoding="utf-8"))
ROWS: list[dict] = EXPECTED["rows"]
MODES = ("full", "noisy")
# (identifier mode, admin layout) of each landing folder written here
LANDINGS = {"full": ("full", "tgss"), "noisy": ("noisy", "tgss"), "contract_type": ("noisy", "contract_type")}
PLACED_STATUSES = (*contract.EMPLOYED_STATUSES, "further_studies", "volunteering")  # indicators.md
TS = "%d/%m/%Y %H:%M"
D = "%d/%m/%Y"

Key = tuple[str | None, str, str, str, str]  # wave, indicator, source, breakdown, breakdown_value


@pytest.fixture(scope="module")
def landings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("asturias2019")
    for name, (identifiers, layout) in LANDINGS.items():
        build.write_landing(root / name, identifiers=identifiers, admin_layout=layout)
    return {name: root / name for name in LANDINGS}


def _csv(path: Path) -> str:
    return (
        f"read_csv('{path.as_posix()}', delim=';', encoding='latin-1', header=true, "
        "all_varchar=true, quote='\"')"
    )


def _load(landing: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"create table reg as select * from {_csv(landing / build.REGISTER_FILE)}")
    con.execute(f"create table pre as select * from {_csv(landing / build.PRE_FILE)}")
    con.execute(f"create table m6 as select * from {_csv(landing / build.M6_FILE)}")
    con.execute(f"create table admin as select * from {_csv(landing / build.ADMIN_FILE)}")
    con.execute(r"create macro norm(x) as regexp_replace(lower(strip_accents(trim(x))), '\s+', ' ', 'g')")
    con.execute(f"create macro d(x) as strptime(x, '{D}')::date")
    for wave in ("pre", "m6"):
        _link(con, wave)
    return con


def _link(con: duckdb.DuckDBPyConnection, w: str) -> None:
    """{w}_link(response_id, school_code, student_id): by student_id where given, else by e-mail
    (case-insensitive) within the school; {w}_by_name: the name + birth date candidates (one edit in
    the names, accents and case ignored, day and month possibly swapped)."""
    con.execute(f"""
        create table {w}_by_email as
        select r.response_id, g.school_code, g.student_id
        from {w} r join reg g
          on g.school_code = trim(r.school_code) and lower(trim(g.email)) = lower(trim(r.email))
        where coalesce(trim(r.student_id), '') = ''
    """)
    con.execute(f"""
        create table {w}_by_name as
        select r.response_id, g.school_code, g.student_id
        from {w} r join reg g on g.school_code = trim(r.school_code)
        where coalesce(trim(r.student_id), '') = ''
          and damerau_levenshtein(norm(r.first_name) || '|' || norm(r.last_name),
                                  norm(g.first_name) || '|' || norm(g.last_name)) <= 1
          and (d(r.birth_date) = d(g.birth_date)
               or (day(d(r.birth_date)) = month(d(g.birth_date))
                   and month(d(r.birth_date)) = day(d(g.birth_date))
                   and year(d(r.birth_date)) = year(d(g.birth_date))))
    """)
    con.execute(f"""
        create table {w}_link as
        select r.response_id, g.school_code, g.student_id
        from {w} r join reg g
          on g.school_code = trim(r.school_code) and g.student_id = trim(r.student_id)
        union all
        select * from {w}_by_email
    """)


def _respondents(con: duckdb.DuckDBPyConnection, w: str) -> None:
    """Complete linked responses, the latest submission per graduate, with the register's columns."""
    con.execute(f"""
        create or replace table {w}_resp as
        select r.*, g.sector_group, g.sex, g.school_code as g_school, g.student_id as g_student
        from {w} r
        join {w}_link l using (response_id)
        join reg g on g.school_code = l.school_code and g.student_id = l.student_id
        where coalesce(r.submitted_at, '') <> ''
        qualify row_number() over (
            partition by g.school_code, g.student_id
            order by strptime(r.submitted_at, '{TS}') desc) = 1
    """)


def _shares(
    con: duckdb.DuckDBPyConnection,
    out: dict[Key, tuple],
    wave: str,
    table: str,
    indicator: str,
    base: str,
    num: str,
    item: str | None = None,
    by_sector: bool = False,
) -> None:
    """Item share per indicators.md: base = rows of the subset that answered the item (not empty,
    not prefer_not); by total and, if asked, by sector_group."""
    if item:
        base += f" and coalesce({item}, '') not in ('', 'prefer_not')"
    groups = [("total", "'all'")] + ([("sector_group", "sector_group")] if by_sector else [])
    for breakdown, expr in groups:
        rows = con.execute(
            f"select {expr}, count(*) filter (where {num}), count(*) from {table} where {base} group by all"
        ).fetchall()
        for value, n, d in rows:
            out[(wave, indicator, "survey", breakdown, value)] = (n, d, None)


def _in(values: tuple[str, ...] | list[str]) -> str:
    """An SQL list literal: ('a', 'b')."""
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _has(item: str, code: str) -> str:
    return f"list_contains(string_split({item}, ';'), '{code}')"


def compute(landing: Path) -> dict[Key, tuple]:
    """The indicators of expected.yaml, from the microdata, with plain SQL."""
    con = _load(landing)
    _respondents(con, "pre")
    _respondents(con, "m6")
    out: dict[Key, tuple] = {}
    one = con.execute
    n_grads, n_women = one("select count(*), count(*) filter (where sex = 'F') from reg").fetchone()
    out[(None, "graduates", "survey", "total", "all")] = (n_grads, None, n_grads)
    out[(None, "share_women", "survey", "total", "all")] = (n_women, n_grads, None)
    for w, wave in (("pre", "pre_graduation"), ("m6", "m6")):
        (n_resp,) = one(f"select count(*) from {w}_resp").fetchone()
        out[(wave, "response_rate", "survey", "total", "all")] = (n_resp, n_grads, None)
        complete, started, median = one(f"""
            select count(*) filter (where coalesce(submitted_at, '') <> ''), count(*),
                   median(date_diff('minute', strptime(started_at, '{TS}'),
                                    strptime(submitted_at, '{TS}')))
                     filter (where coalesce(submitted_at, '') <> '')
            from {w}
        """).fetchone()
        out[(wave, "completion_rate", "survey", "total", "all")] = (complete, started, None)
        out[(wave, "median_minutes_to_complete", "survey", "total", "all")] = (None, complete, median)
        for item, prefix in (
            ("relevant_skills", "relevant_skill"),
            ("wish_learned_more", "wish_learned_more"),
        ):
            for code in contract.CODEBOOK[item]:
                _shares(con, out, wave, f"{w}_resp", f"{prefix}_{code}", "true", _has(item, code), item)

    def share(indicator: str, base: str, num: str, item: str | None = None, **kw) -> None:
        kw.setdefault("table", "m6_resp")
        _shares(con, out, "m6", kw.pop("table"), indicator, base, num, item, **kw)

    for status in contract.CODEBOOK["current_status"]:
        share(f"status_{status}", "true", f"current_status = '{status}'")
    share("employed_share", "true", f"current_status in {_in(contract.EMPLOYED_STATUSES)}")
    share("studying_share", "true", f"current_status in {_in(contract.STUDYING_STATUSES)}")

    working = f"current_status in {_in(contract.WAGE_EARNER_STATUSES)}"
    for indicator, item, code in (
        ("job_related_to_qualification", "job_related_to_qualification", "yes"),
        ("part_time_share", "working_time", "part_time"),
        ("permanent_contract_share", "contract_type", "permanent"),
        ("wage_below_1000_share", "monthly_net_wage_band", "lt1000"),
        ("jobseeking_while_employed_share", "job_seeking_while_employed", "yes"),
        ("unpaid_extra_hours_share", "unpaid_extra_hours", "yes"),
        ("first_job_within_1_month", "months_to_first_job", "lt1"),
    ):
        share(indicator, working, f"{item} = '{code}'", item, by_sector=True)
    for channel in contract.CODEBOOK["job_found_via"]:
        share(f"job_found_via_{channel}", working, f"job_found_via = '{channel}'", "job_found_via")

    studying = f"current_status in {_in(contract.STUDYING_STATUSES)}"
    for level in contract.CODEBOOK["study_level"]:
        share(f"study_level_{level}", studying, f"study_level = '{level}'", "study_level")
    item = "study_related_to_qualification"
    share(item, studying, f"{item} = 'yes'", item)
    share("combining_work_and_study", studying, "current_status = 'work_and_study'")

    item = "had_job_since_graduation"
    share(item, "current_status = 'unemployed'", f"{item} = 'yes'", item)

    # plans before graduation (pre respondents) against the status after (m6 respondents)
    con.execute("""
        create table m6_with_plan as
        select m.*, p.plan_after_graduation
        from m6_resp m join pre_resp p on p.g_school = m.g_school and p.g_student = m.g_student
    """)
    share(
        "labour_market_expectations_met",
        f"plan_after_graduation in {_in(contract.EMPLOYED_STATUSES)}",
        f"current_status in {_in(contract.EMPLOYED_STATUSES)}",
        table="m6_with_plan",
    )
    _admin_indicators(con, out)
    con.close()
    return out


def _admin_indicators(con: duckdb.DuckDBPyConnection, out: dict[Key, tuple]) -> None:
    """The m6 figures that use the Social Security extract (indicators.md, "Combined status and EQAVET"):
    a graduate is employed per admin when a spell covers the m6 reference date; every graduate is in the
    admin base (all have a national id, and the extract was taken after the reference date)."""
    con.execute(f"""
        create table m6_outcome as
        select g.school_code, g.student_id, r.current_status,
               exists (select 1 from admin a where a.national_id = g.national_id
                       and d(a.spell_start) <= date '{build.M6_REFERENCE_DATE}'
                       and (a.spell_end is null or d(a.spell_end) >= date '{build.M6_REFERENCE_DATE}'))
                 as admin_employed
        from reg g left join m6_resp r on r.g_school = g.school_code and r.g_student = g.student_id
    """)
    employed, placed = _in(contract.EMPLOYED_STATUSES), _in(PLACED_STATUSES)
    (n, admin, e_comb, p_comb, agree, resp, r_emp, nonresp, n_emp) = con.execute(f"""
        select count(*), count(*) filter (where admin_employed),
               count(*) filter (where coalesce(current_status in {employed}, admin_employed)),
               count(*) filter (where coalesce(current_status in {placed}, admin_employed)),
               count(*) filter (where (current_status in {employed}) = admin_employed),
               count(current_status), count(*) filter (where current_status is not null and admin_employed),
               count(*) filter (where current_status is null),
               count(*) filter (where current_status is null and admin_employed)
        from m6_outcome
    """).fetchone()
    total = ("total", "all")
    out[("m6", "eqavet5b_employment_rate", "admin", *total)] = (admin, n, None)
    out[("m6", "eqavet5b_employment_rate", "combined", *total)] = (e_comb, n, None)
    out[("m6", "eqavet5a_placement_rate", "combined", *total)] = (p_comb, n, None)
    out[("m6", "survey_admin_employment_agreement", "combined", *total)] = (agree, resp, None)
    gap = Fraction(r_emp, resp) - Fraction(n_emp, nonresp)
    out[("m6", "nonresponse_gap_employment", "admin", *total)] = (None, n, float(gap))


@pytest.fixture(scope="module")
def computed(landings: dict[str, Path]) -> dict[str, dict[Key, tuple]]:
    return {mode: compute(path) for mode, path in landings.items()}


def _key(row: dict) -> Key:
    return (row["wave"], row["indicator"], row["source"], row["breakdown"], str(row["breakdown_value"]))


# ----------------------------------------------------------------------------------------------------
# The microdata give the expected counts, in both identifier modes
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", LANDINGS)
def test_microdata_give_expected_counts(computed: dict[str, dict[Key, tuple]], mode: str) -> None:
    got = computed[mode]
    mismatches = []
    for row in ROWS:
        assert row["cohort"] == 2019 and row["source"] in ("survey", "admin", "combined")
        num, den, value = got.get(_key(row), (None, None, None))
        want = (row["numerator"], row["denominator"], row.get("value"))
        have = (num, den, value if row.get("value") is not None else None)
        if isinstance(want[2], float) and isinstance(have[2], float):  # a difference of two shares
            have = (num, den, want[2] if math.isclose(have[2], want[2], abs_tol=1e-9) else have[2])
        if want != have:
            mismatches.append((_key(row), want, have))
    assert not mismatches


def test_modes_give_identical_indicators(computed: dict[str, dict[Key, tuple]]) -> None:
    assert computed["full"] == computed["noisy"] == computed["contract_type"]


def test_expected_rows_are_unique_and_complete() -> None:
    keys = [_key(r) for r in ROWS]
    assert len(keys) == len(set(keys))
    required = {
        "graduates",
        "share_women",
        "response_rate",
        "completion_rate",
        "median_minutes_to_complete",
        "employed_share",
        "studying_share",
        "job_related_to_qualification",
        "part_time_share",
        "permanent_contract_share",
        "wage_below_1000_share",
        "jobseeking_while_employed_share",
        "first_job_within_1_month",
        "study_level_vet",
        "study_level_university",
        "study_level_other",
        "study_related_to_qualification",
        "combining_work_and_study",
        "had_job_since_graduation",
        "labour_market_expectations_met",
    } | {f"status_{s}" for s in contract.CODEBOOK["current_status"]}
    assert required <= {r["indicator"] for r in ROWS}
    for indicator in (
        "job_related_to_qualification",
        "part_time_share",
        "permanent_contract_share",
        "wage_below_1000_share",
        "jobseeking_while_employed_share",
    ):
        for breakdown, value in (
            ("total", "all"),
            ("sector_group", "industry"),
            ("sector_group", "services"),
        ):
            assert ("m6", indicator, "survey", breakdown, value) in keys


# ----------------------------------------------------------------------------------------------------
# The expected counts give the published figures
# ----------------------------------------------------------------------------------------------------


def _percent(text: str) -> Decimal:
    return Decimal(text.replace("%", "").strip().replace(",", "."))


def _rounded(numerator: int, denominator: int, published: Decimal, rule: str) -> Decimal:
    exponent = Decimal(1).scaleb(published.as_tuple().exponent)
    pct = Decimal(numerator) * 100 / Decimal(denominator)
    return pct.quantize(exponent, rounding=ROUND_HALF_UP if rule == "half_up" else ROUND_DOWN)


@pytest.mark.parametrize(
    "row", [r for r in ROWS if r.get("published")], ids=lambda r: "/".join(map(str, _key(r)))
)
def test_expected_counts_give_published_figures(row: dict) -> None:
    rule, published = row["rule"], str(row["published"])
    num, den = row["numerator"], row["denominator"]
    if rule in ("half_up", "truncate"):
        assert _rounded(num, den, _percent(published), rule) == _percent(published)
        if rule == "truncate":  # truncation is used only where rounding cannot give the figure
            assert _rounded(num, den, _percent(published), "half_up") != _percent(published)
    elif rule == "misprint":
        assert _rounded(num, den, _percent(published), "half_up") != _percent(published)
        reproduces = str(row["reproduces"])
        assert _rounded(num, den, _percent(reproduces), "half_up") == _percent(reproduces)
    elif rule == "fraction":  # "1 de cada 3": the numerator is the nearest integer to base x fraction
        target = Fraction(row["fraction"]) * den
        assert abs(num - target) <= Fraction(1, 2)
    elif rule == "exact":
        assert Decimal(str(row["value"])) == _percent(published)
    elif rule == "rank":
        family = _family(row["indicator"])
        ranked = _top(ROWS, row["wave"], family, len(ROWS))
        assert ranked.index(row["indicator"].removeprefix(family)) + 1 == row["rank"]
    elif rule == "rises":
        before = next(r for r in ROWS if r["wave"] == "pre_graduation" and r["indicator"] == row["indicator"])
        assert Fraction(num, den) > Fraction(before["numerator"], before["denominator"])
    else:
        pytest.fail(f"unknown rule {rule}")


FAMILIES = ("relevant_skill_", "wish_learned_more_", "job_found_via_")


def _family(indicator: str) -> str:
    return next(f for f in FAMILIES if indicator.startswith(f))


def _top(rows: list[dict], wave: str, prefix: str, k: int) -> list[str]:
    ranked = sorted(
        (r for r in rows if r["wave"] == wave and r["indicator"].startswith(prefix)),
        key=lambda r: -Fraction(r["numerator"], r["denominator"]),
    )
    return [r["indicator"].removeprefix(prefix) for r in ranked[:k]]


def test_rankings() -> None:
    for wave in ("pre_graduation", "m6"):
        assert _top(ROWS, wave, "relevant_skill_", 2) == ["teamwork", "problem_solving"]
    assert _top(ROWS, "pre_graduation", "wish_learned_more_", 4) == [
        "technical_skills",
        "career_guidance",
        "soft_skills",
        "job_search",
    ]
    share = {
        (r["wave"], r["indicator"]): Fraction(r["numerator"], r["denominator"])
        for r in ROWS
        if r["indicator"].startswith("wish_learned_more_")
    }
    for topic in ("languages", "more_practice"):
        key = f"wish_learned_more_{topic}"
        assert share[("m6", key)] > share[("pre_graduation", key)]
    assert _top(ROWS, "m6", "job_found_via_", 3) == ["personal_contacts", "placement_company", "school"]


# ----------------------------------------------------------------------------------------------------
# The files are written the way Spanish tools write them, and follow the contract
# ----------------------------------------------------------------------------------------------------

FILES = (build.REGISTER_FILE, build.PRE_FILE, build.M6_FILE, build.ADMIN_FILE)


@pytest.mark.parametrize("name", FILES)
def test_spanish_file_format(landings: dict[str, Path], name: str) -> None:
    data = (landings["noisy"] / name).read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    text = data.decode("latin-1")
    header = text.split("\r\n", 1)[0]
    assert ";" in header and "," not in header
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    if name != build.ADMIN_FILE:
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")  # accents are single Latin-1 bytes
        assert re.search("[ñáéíóú]", text)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)


def test_dates_decimals_and_dni(landings: dict[str, Path]) -> None:
    con = _load(landings["full"])
    q = con.execute
    assert q(
        "select count(*) from reg where not regexp_full_match(birth_date, '\\d{2}/\\d{2}/\\d{4}')"
    ).fetchone() == (0,)
    ts = "'\\d{2}/\\d{2}/\\d{4} \\d{2}:\\d{2}'"
    for w in ("pre", "m6"):
        assert q(f"select count(*) from {w} where not regexp_full_match(started_at, {ts})").fetchone() == (0,)
        assert q(f"""select count(*) from {w} where submitted_at is not null
                     and not regexp_full_match(submitted_at, {ts})""").fetchone() == (0,)
    assert q("""select count(*) from reg where not regexp_full_match(national_id, '\\d{8}[A-Z]')
                or 'TRWAGMYFPDXBNJZSQVHLCKE'[cast(left(national_id, 8) as bigint) % 23 + 1]
                   <> right(national_id, 1)""").fetchone() == (0,)
    assert q("""select count(*) from admin where monthly_earnings is not null
                and not regexp_full_match(monthly_earnings, '\\d+,\\d{2}')""").fetchone() == (0,)
    assert q("select count(*) from admin where part_time_pct like '%,%'").fetchone()[0] > 0
    # all graduates carry the personal data linkage needs
    for col in ("national_id", "first_name", "last_name", "birth_date", "email"):
        assert q(f"select count(*) from reg where coalesce({col}, '') = ''").fetchone() == (0,)


def test_register(landings: dict[str, Path]) -> None:
    con = _load(landings["full"])
    q = con.execute
    counts = q("""
        select count(*), count(distinct (school_code, student_id)), count(distinct school_code),
               count(distinct national_id), count(distinct lower(email))
        from reg
    """).fetchone()
    assert counts == (199, 199, 6, 199, 199)
    assert q("select distinct country, region, cohort, graduation_date from reg").fetchall() == [
        ("ES", "ES12", "2019", "21/06/2019")
    ]
    # the same student_id recurs in several schools: the key is (school_code, student_id)
    assert q("select count(distinct student_id) from reg").fetchone()[0] < 199
    largest = "select school_code from {} group by all order by count(*) desc limit 1"
    assert q(largest.format("reg")).fetchone() == ("ES-LABORAL",)
    _respondents(con, "m6")
    assert q(largest.format("m6_resp")).fetchone() == ("ES-LABORAL",)
    assert q("select school_name from reg where school_code = 'ES-LABORAL' limit 1").fetchone() == (
        "CIFP La Laboral",
    )


@pytest.mark.parametrize("name", [build.PRE_FILE, build.M6_FILE, build.REGISTER_FILE])
def test_codes_follow_the_codebook(landings: dict[str, Path], name: str) -> None:
    con = duckdb.connect()
    rel = con.execute(f"select * from {_csv(landings['full'] / name)}")
    columns = [c[0] for c in rel.description]
    rows = rel.fetchall()
    spec = contract.REGISTER if name == build.REGISTER_FILE else contract.SURVEY
    assert columns == [c for c in spec.names if c in columns]
    for i, col in enumerate(columns):
        column = spec.column(col)
        if column.kind not in ("code", "multi"):
            continue
        for row in rows:
            if row[i] is None:
                continue
            values = row[i].split(";") if column.kind == "multi" else [row[i]]
            assert set(values) <= set(column.codes), (col, row[i])
            assert column.kind != "multi" or "none" not in values or values == ["none"]


ASKED_OF = {
    "months_to_first_job": contract.EMPLOYED_STATUSES,
    "job_found_via": contract.WAGE_EARNER_STATUSES,
    "job_related_to_qualification": contract.EMPLOYED_STATUSES,
    "contract_type": contract.WAGE_EARNER_STATUSES,
    "working_time": contract.EMPLOYED_STATUSES,
    "unpaid_extra_hours": contract.WAGE_EARNER_STATUSES,
    "monthly_net_wage_band": contract.EMPLOYED_STATUSES,
    "job_seeking_while_employed": contract.WAGE_EARNER_STATUSES,
    "study_level": contract.STUDYING_STATUSES,
    "study_related_to_qualification": contract.STUDYING_STATUSES,
    "unemployment_reasons": ("unemployed",),
    "had_job_since_graduation": ("unemployed",),
    "expectations_met": contract.CODEBOOK["current_status"],
}


def test_items_answered_exactly_by_the_statuses_asked(landings: dict[str, Path]) -> None:
    con = _load(landings["full"])
    for item, statuses in ASKED_OF.items():
        wrong = con.execute(f"""
            select count(*) from m6 where submitted_at is not null
              and (({item} is not null) <> (current_status in {_in(statuses)}))
        """).fetchone()
        assert wrong == (0,), item
    for item in (*contract.PRE_GRADUATION_ITEMS, "relevant_skills", "wish_learned_more"):
        assert con.execute(f"select count(*) from pre where {item} is null").fetchone() == (0,)


def test_unfinished_and_medians(landings: dict[str, Path]) -> None:
    con = _load(landings["full"])
    q = con.execute
    assert q("select count(*), count(submitted_at) from pre").fetchone() == (199, 199)
    assert q("select count(*), count(submitted_at) from m6").fetchone() == (171, 149)
    # 3 unfinished first attempts of graduates who completed later, 19 of graduates who never did
    assert q("""
        select count(*) filter (where c.student_id is not null), count(*) filter (where c.student_id is null)
        from (select * from m6 where submitted_at is null) u
        left join (select school_code, student_id from m6 where submitted_at is not null) c
          using (school_code, student_id)
    """).fetchone() == (3, 19)
    for w in ("pre", "m6"):  # whole minutes
        assert q(f"""select count(*) from {w} where submitted_at is not null
                     and strptime(submitted_at, '{TS}') <= strptime(started_at, '{TS}')""").fetchone() == (0,)


# ----------------------------------------------------------------------------------------------------
# Identifier modes
# ----------------------------------------------------------------------------------------------------


def test_full_mode_every_response_has_student_id(landings: dict[str, Path]) -> None:
    con = _load(landings["full"])
    for w in ("pre", "m6"):
        assert con.execute(f"""
            select count(*) from {w} r left join reg g
              on g.school_code = r.school_code and g.student_id = r.student_id
            where g.student_id is null or r.token is not null
        """).fetchone() == (0,)


def test_modes_differ_only_in_student_id(landings: dict[str, Path]) -> None:
    for name in FILES:
        full = (landings["full"] / name).read_bytes().decode("latin-1").split("\r\n")
        noisy = (landings["noisy"] / name).read_bytes().decode("latin-1").split("\r\n")
        assert len(full) == len(noisy)
        if name in (build.REGISTER_FILE, build.ADMIN_FILE):
            assert full == noisy
            continue
        sid = full[0].split(";").index("student_id")
        blanked = 0
        for a, b in zip(full, noisy, strict=True):
            if a != b:
                fa, fb = a.split(";"), b.split(";")
                assert fb[sid] == "" and fa[sid] != ""
                assert fa[:sid] + fa[sid + 1 :] == fb[:sid] + fb[sid + 1 :]
                blanked += 1
        share = blanked / (len(full) - 2)  # header and the empty string after the last CRLF
        assert 0.27 <= share <= 0.33, (name, share)


def test_noisy_responses_are_identifiable(landings: dict[str, Path]) -> None:
    """Each response without student_id has exactly one candidate by e-mail and exactly one by
    name + birth date within its school, the same one, and the graduate of the full-mode file."""
    noisy = _load(landings["noisy"])
    full = _load(landings["full"])
    for w in ("pre", "m6"):
        anonymous = noisy.execute(
            f"select response_id from {w} where student_id is null order by 1"
        ).fetchall()
        assert anonymous
        for table in (f"{w}_by_email", f"{w}_by_name"):
            counts = noisy.execute(
                f"select response_id, count(*) from {table} group by 1 order by 1"
            ).fetchall()
            assert [c for _, c in counts] == [1] * len(anonymous), table
            assert [(r,) for r, _ in counts] == anonymous
        by_email = noisy.execute(f"select * from {w}_by_email order by 1").fetchall()
        assert by_email == noisy.execute(f"select * from {w}_by_name order by 1").fetchall()
        truth = dict(
            (r, (s, i))
            for r, s, i in full.execute(f"select response_id, school_code, student_id from {w}").fetchall()
        )
        assert all(truth[r] == (s, i) for r, s, i in by_email)


def test_noisy_responses_have_one_or_two_small_errors(landings: dict[str, Path]) -> None:
    con = _load(landings["full"])
    for w in ("pre", "m6"):
        rows = con.execute(f"""
            select (r.first_name <> g.first_name or r.last_name <> g.last_name)::int
                 + (r.email <> g.email)::int + (r.birth_date <> g.birth_date)::int,
                   lower(r.email) = lower(g.email)
            from {w} r join reg g using (school_code, student_id)
        """).fetchall()
        errors = [e for e, _ in rows]
        assert max(errors) <= 2 and all(same_email for _, same_email in rows)
        assert 0.27 <= sum(e > 0 for e in errors) / len(errors) <= 0.33


# ----------------------------------------------------------------------------------------------------
# Admin extract (not part of the reproduction) and determinism
# ----------------------------------------------------------------------------------------------------


def test_admin_extract_is_consistent(landings: dict[str, Path]) -> None:
    con = _load(landings["full"])
    _respondents(con, "m6")
    q = con.execute
    assert q("select count(*) from admin a anti join reg g using (national_id)").fetchone() == (0,)
    assert q("select distinct source, extracted_on from admin").fetchall() == [("es_tgss", "31/01/2020")]
    assert q("""select count(*) from admin where not (
                  (regime = 'RG' and regexp_full_match(contract_key, '[1-5]\\d{2}'))
               or (regime = 'RETA' and contract_key is null))""").fetchone() == (0,)
    # part-time keys (2xx, 5xx) and only they carry a part-time percentage
    assert q("""select count(*) from admin where regime = 'RG'
                and (left(contract_key, 1) in ('2', '5')) <> (part_time_pct is not null)""").fetchone() == (
        0,
    )
    covering = f"""
        select r.current_status, r.contract_type, count(a.national_id) > 0 as employed
        from m6_resp r join reg g on g.school_code = r.g_school and g.student_id = r.g_student
        left join admin a on a.national_id = g.national_id
          and d(a.spell_start) <= date '{build.M6_REFERENCE_DATE}'
          and (a.spell_end is null or d(a.spell_end) >= date '{build.M6_REFERENCE_DATE}')
        group by r.g_school, r.g_student, r.current_status, r.contract_type
    """
    for status, contract_type, employed in q(covering).fetchall():
        expected = status in contract.WAGE_EARNER_STATUSES and contract_type != "no_contract"
        assert employed == expected, (status, contract_type)


def test_contract_type_layout_carries_the_same_spells(landings: dict[str, Path]) -> None:
    """The contract's own admin columns, the SEPE key in contract_type under source = es_tgss: the
    same spells as the TGSS layout, RETA spells as self_employed, nothing else changed."""
    con = duckdb.connect()
    con.execute(f"create table tgss as select * from {_csv(landings['full'] / build.ADMIN_FILE)}")
    con.execute(f"create table ct as select * from {_csv(landings['contract_type'] / build.ADMIN_FILE)}")
    assert [c[0] for c in con.execute("select * from ct limit 0").description] == list(contract.ADMIN.names)
    assert {c for c in contract.ADMIN.names if c != "contract_type"} < set(contract.ES_TGSS.names)
    as_key = "case when regime = 'RETA' then 'self_employed' else contract_key end"
    columns = [as_key if c == "contract_type" else c for c in contract.ADMIN.names]
    as_contract_type = f"select {', '.join(columns)} from tgss"
    assert con.execute(f"select count(*) from ({as_contract_type})").fetchone() == (106,)
    assert con.execute(f"({as_contract_type}) except all (select * from ct)").fetchall() == []
    assert con.execute(f"(select * from ct) except all ({as_contract_type})").fetchall() == []
    assert con.execute("select count(*) from ct where contract_type = 'self_employed'").fetchone() == (1,)
    assert con.execute(
        "select count(*) from ct where not regexp_full_match(contract_type, '[1-5]\\d{2}|self_employed')"
    ).fetchone() == (0,)


def test_deterministic(tmp_path: Path, landings: dict[str, Path]) -> None:
    build.write_landing(tmp_path / "again", identifiers="noisy")
    for name in FILES:
        assert (tmp_path / "again" / name).read_bytes() == (landings["noisy"] / name).read_bytes()


def test_unknown_mode_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "landing"
    with pytest.raises(ValueError, match="identifiers"):
        build.write_landing(out, identifiers="partial")
    with pytest.raises(ValueError, match="admin_layout"):
        build.write_landing(out, admin_layout="sepe")
    assert not out.exists()
