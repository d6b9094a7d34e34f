"""The sample generator: determinism, contract layout and formats, and realistic behaviour.

One moderately sized sample (fixed seed) is generated per test module; statistical tolerances are set for
its size, so the tests are exact for that seed and robust to small parameter changes.
"""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ingestion.contract import (
    CODEBOOK,
    ES_TGSS,
    MULTI_CHOICE,
    POST_GRADUATION_ITEMS,
    PRE_GRADUATION_ITEMS,
    REGISTER,
    WAVES,
)
from ingestion.limesurvey import read_structure
from ingestion.sample import SampleSummary, generate
from ingestion.sample.generator import LIMESURVEY6_WAVE
from ingestion.sample.ids import DNI_LETTERS, cf_check_char
from ingestion.sample.names import BY_COUNTRY
from ingestion.sample.schools import SCHOOLS
from ingestion.sample.surveys import LS_IDENT

BOM = b"\xef\xbb\xbf"
COHORTS = (2019, 2020)
GRADUATES = 3000
SPANISH = {s.code for s in SCHOOLS if s.country == "ES"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    out = tmp_path_factory.mktemp("sample") / "landing"
    return generate(out, graduates=GRADUATES, cohorts=COHORTS, seed=42)


def read(path: Path) -> pd.DataFrame:
    """Read a landing file the way its tool wrote it (BOM -> UTF-8 and `,`, else Latin-1 and `;`)."""
    raw = path.read_bytes()
    if raw.startswith(BOM):
        text, sep = raw[3:].decode("utf-8"), ","
    else:
        text, sep = raw.decode("latin-1"), ";"
    return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)


def truth(sample: SampleSummary, name: str) -> pd.DataFrame:
    return pd.read_csv(sample.truth / name, dtype=str, keep_default_na=False)


def when(col: pd.Series) -> pd.Series:
    """Dates or timestamps written as DD/MM/YYYY[ HH:MM] or ISO; empty gives NaT."""
    iso = col.str.replace(r"^(\d{2})/(\d{2})/(\d{4})", r"\3-\2-\1", regex=True)
    return pd.to_datetime(iso.replace("", None), format="ISO8601")


def norm(text: str) -> str:
    plain = unicodedata.normalize("NFD", text)
    plain = "".join(c for c in plain if unicodedata.category(c) != "Mn")
    return " ".join(plain.lower().split())


@pytest.fixture(scope="module")
def register(sample: SampleSummary) -> pd.DataFrame:
    return pd.concat([read(p) for p in sorted((sample.landing / "register").glob("*.csv"))])


@pytest.fixture(scope="module")
def surveys(sample: SampleSummary) -> dict[str, pd.DataFrame]:
    """Canonical survey files per wave (LimeSurvey excluded), joined to the truth."""
    resp = truth(sample, "responses.csv")
    out = {}
    for wave in WAVES:
        parts = []
        for p in sorted((sample.landing / "surveys" / wave).glob("*.csv")):
            if p.stem.startswith("it_cometa"):
                continue
            d = read(p)
            d["file"] = f"surveys/{wave}/{p.name}"
            parts.append(d)
        d = pd.concat(parts)
        t = resp.rename(columns={"school_code": "t_school", "student_id": "t_student"})
        out[wave] = d.merge(t, on=["file", "response_id"], how="left", validate="one_to_one")
    return out


# ---- determinism and layout ----------------------------------------------------------------------


def _all_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", graduates=300, cohorts=(2021,), seed=5)
    b = generate(tmp_path / "b", graduates=300, cohorts=(2021,), seed=5)
    c = generate(tmp_path / "c", graduates=300, cohorts=(2021,), seed=6)
    assert _all_bytes(a.landing) == _all_bytes(b.landing)
    assert _all_bytes(a.truth) == _all_bytes(b.truth)
    landing_a, landing_c = _all_bytes(a.landing), _all_bytes(c.landing)
    assert landing_a.keys() == landing_c.keys()
    assert landing_a["register/es_laboral_2021.csv"] != landing_c["register/es_laboral_2021.csv"]


def test_layout_follows_the_contract(sample: SampleSummary) -> None:
    root = sample.landing
    files = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    assert files == set(sample.written)
    assert sample.files == len(files)
    expected = set()
    for cohort in COHORTS:
        for s in SCHOOLS:
            expected.add(f"register/{s.stem}_{cohort}.csv")
            for wave in WAVES:
                expected.add(f"surveys/{wave}/{s.stem}_{cohort}.csv")
        for source in ("es_tgss", "ee_emta", "it_inps"):
            expected.add(f"admin/{source}_{cohort + 2}.csv")
        for wave in WAVES:
            expected.add(f"surveys/{wave}/it_cometa_{cohort}.yaml")
        expected.add(f"surveys/{LIMESURVEY6_WAVE}/it_cometa_{cohort}.lss")
    expected.add("context/eurostat_unemployment.csv")
    assert files == expected
    assert not any("nl_" in f for f in files if f.startswith("admin/"))
    assert sample.truth == root.parent / "landing.truth"
    assert {p.name for p in sample.truth.iterdir()} == {
        "graduates.csv",
        "responses.csv",
        "spells.csv",
        "README.md",
    }
    assert sample.register_rows == GRADUATES * len(COHORTS)


def test_refuses_truth_inside_landing_and_busy_folders(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path / "x", graduates=10, truth=tmp_path / "x" / "truth")
    generate(tmp_path / "y", graduates=50)
    with pytest.raises(FileExistsError):
        generate(tmp_path / "y", graduates=50)
    again = generate(tmp_path / "y", graduates=60, overwrite=True)
    assert again.register_rows == 60


# ---- formats --------------------------------------------------------------------------------------

DMY = re.compile(r"^\d{2}/\d{2}/\d{4}$")
DMY_HM = re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}$")
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_HMS = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def _values(col: pd.Series) -> pd.Series:
    return col[col != ""]


def test_spanish_files_are_latin1_semicolon_dmy(sample: SampleSummary) -> None:
    root = sample.landing
    spanish = [p for p in root.rglob("es_*.csv")]
    assert len(spanish) == (5 * 4 + 1) * len(COHORTS)
    for p in spanish:
        raw = p.read_bytes()
        assert not raw.startswith(BOM)
        assert b"\r\n" in raw
        if "admin" not in p.parts:  # names: accented letters are single Latin-1 bytes
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
        assert raw.split(b"\r\n", 1)[0].count(b";") >= 9
    reg = read(root / "register/es_laboral_2019.csv")
    assert _values(reg.birth_date).str.match(DMY).all()
    assert reg.school_name.iloc[0] == "CIFP La Laboral"
    assert reg.last_name.str.contains(r"[áéíóúñÁÉÍÓÚÑ]").any()
    assert (reg.last_name.str.split().str.len() >= 2).mean() > 0.95  # two surnames
    m6 = read(root / "surveys/m6/es_cerdeno_2019.csv")
    assert _values(m6.started_at).str.match(DMY_HM).all()
    assert _values(m6.submitted_at).str.match(DMY_HM).all()
    raw = (root / "surveys/m6/es_laboral_2019.csv").read_bytes().decode("latin-1")
    assert re.search(r';"[a-z_]+;[a-z_;]+";', raw), "multi-choice codes are quoted in `;` files"
    tgss = read(root / "admin/es_tgss_2021.csv")
    assert _values(tgss.part_time_pct).str.match(r"^\d+,\d$").all()
    assert _values(tgss.monthly_earnings).str.match(r"^\d+,\d{2}$").all()


def test_other_files_are_utf8_bom_comma_iso(sample: SampleSummary) -> None:
    root = sample.landing
    others = [p for p in root.rglob("*.csv") if not p.name.startswith("es_")]
    for p in others:
        raw = p.read_bytes()
        assert raw.startswith(BOM), p
        raw.decode("utf-8")
    ee = read(root / "register/ee_pkhk_2019.csv")
    assert _values(ee.birth_date).str.match(ISO).all()
    assert ee.school_name.iloc[0] == "Pärnumaa Kutsehariduskeskus"
    nl = read(root / "surveys/pre_graduation/nl_alfa_2020.csv")
    assert _values(nl.started_at).str.match(ISO_HMS).all()
    ls = (root / "surveys/m6/it_cometa_2019.csv").read_bytes()[3:].decode("utf-8")
    first, second = ls.splitlines()[:2]
    assert first.startswith(
        '"id","submitdate","lastpage","startlanguage","seed","token","startdate","datestamp"'
    )
    assert second.startswith('"') and '""' in second  # LimeSurvey quotes every field, empty ones too


# ---- register -----------------------------------------------------------------------------------


def test_register_columns_codes_and_population(register: pd.DataFrame, sample: SampleSummary) -> None:
    root = sample.landing
    for s in SCHOOLS:
        cols = list(read(root / f"register/{s.stem}_2019.csv").columns)
        expected = [c for c in REGISTER.names if c != "token" or s.issues_tokens]
        assert cols == expected
    assert SCHOOLS[[s.code for s in SCHOOLS].index("IT-COMETA")].issues_tokens
    assert set(register.sex) <= set(CODEBOOK["sex"])
    assert set(register.sector_group) == {"industry", "services"}
    assert set(register.eqf_level) <= {"3", "4", "5"}
    assert set(register.country) == {"ES", "EE", "IT", "NL"}
    assert set(register.language) == {"es", "et", "it", "nl", "en"}
    assert (register[register.language == "en"].school_code == "NL-ALFA").all()
    for school, group in register.groupby("school_code"):
        assert group.student_id.is_unique, school
        assert group.sector_group.nunique() == 2, school
    share = register.school_code.value_counts(normalize=True)
    assert share.idxmax() == "ES-LABORAL"
    assert 0.38 <= (register.sex == "F").mean() <= 0.48
    assert 0 < (register.sex == "X").mean() < 0.02
    assert 0.03 <= (register.national_id == "").mean() <= 0.05
    grad = when(register.graduation_date)
    assert grad.dt.month.isin([6, 7]).all()
    assert set(grad.dt.year.astype(str)) == set(register.cohort.unique())
    birth = when(register.birth_date)
    age = (grad - birth).dt.days / 365.25
    assert ((age >= 18) & (age < 23)).mean() > 0.9
    assert 0.9 < register.email.str.contains("@").mean() < 1
    assert register.email[register.email != ""].is_unique


def test_name_lists_are_rich() -> None:
    for names in BY_COUNTRY.values():
        assert len(names.female) + len(names.male) >= 40
        assert len(names.surnames) >= 40


def test_national_ids_have_valid_shapes(register: pd.DataFrame) -> None:
    ids = register[register.national_id != ""]
    for country, group in ids.groupby("country"):
        values = group.national_id
        if country == "ES":
            for v in values:
                number = v[:-1] if v[0].isdigit() else str("XYZ".index(v[0])) + v[1:-1]
                assert re.fullmatch(r"(\d{8}|[XYZ]\d{7})[A-Z]", v)
                assert DNI_LETTERS[int(number) % 23] == v[-1]
        elif country == "EE":
            for v in values:
                d = [int(c) for c in v]
                c = sum(w * x for w, x in zip([1, 2, 3, 4, 5, 6, 7, 8, 9, 1], d[:10], strict=True)) % 11
                if c == 10:
                    c = sum(w * x for w, x in zip([3, 4, 5, 6, 7, 8, 9, 1, 2, 3], d[:10], strict=True)) % 11
                    c = 0 if c == 10 else c
                assert len(v) == 11 and d[10] == c
        elif country == "IT":
            for v in values:
                assert re.fullmatch(r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z]", v[:12])
                assert len(v) == 16 and cf_check_char(v) == v[15]
        else:
            for v in values:
                d = [int(c) for c in v]
                assert (
                    len(v) == 9
                    and (sum(w * x for w, x in zip(range(9, 1, -1), d, strict=False)) - d[8]) % 11 == 0
                )
        assert values.is_unique


# ---- surveys ------------------------------------------------------------------------------------


def test_attrition_is_about_90_70_55_and_correlated(sample: SampleSummary) -> None:
    g = truth(sample, "graduates.csv")
    rates = {w: (g[f"responded_{w}"] == "true").mean() for w in WAVES}
    assert rates["pre_graduation"] == pytest.approx(0.90, abs=0.02)
    assert rates["m6"] == pytest.approx(0.70, abs=0.02)
    assert rates["m18"] == pytest.approx(0.55, abs=0.02)
    pre = g.responded_pre_graduation == "true"
    m18 = g.responded_m18 == "true"
    assert m18[pre].mean() > m18[~pre].mean() + 0.2


def test_unfinished_and_duplicates(sample: SampleSummary, surveys: dict[str, pd.DataFrame]) -> None:
    resp = truth(sample, "responses.csv")
    for wave, d in resp.groupby("wave"):
        share = d.role.value_counts(normalize=True)
        assert 0.04 <= share["unfinished"] <= 0.16, wave
        assert 0.01 <= share["superseded_duplicate"] <= 0.035, wave
        assert ((d.is_complete == "true") == (d.role != "unfinished")).all()
    for wave, d in surveys.items():
        unfinished = d[d.role == "unfinished"]
        assert (unfinished.submitted_at == "").all()
        last_item = "alumni_contribution"
        assert (unfinished[last_item] == "").all(), wave  # later items empty
        final = d[d.role == "final"]
        assert (final.submitted_at != "").all()
        dups = d[d.role == "superseded_duplicate"]
        assert len(dups)
        pair = dups.merge(final, on=["t_school", "t_student"], suffixes=("_dup", "_final"))
        assert len(pair) == len(dups)
        start = {c: when(pair[c]) for c in pair if c.startswith("started")}
        assert (start["started_at_dup"] < start["started_at_final"]).all()


def test_fielding_dates_and_durations(surveys: dict[str, pd.DataFrame]) -> None:
    for wave, d in surveys.items():
        started = when(d.started_at)
        cohort = d.cohort.astype(int)
        if wave == "pre_graduation":
            assert (started.dt.month == 3).all() and (started.dt.year == cohort).all()
        else:
            offset = 1 if wave == "m6" else 2
            assert (started.dt.month == 1).all() and (started.dt.year == cohort + offset).all()
        done = d[d.submitted_at != ""]
        submitted = when(done.submitted_at)
        minutes = (submitted - started[d.submitted_at != ""]).dt.total_seconds() / 60
        assert 3.5 <= minutes.median() <= 8.5, wave


def test_answers_follow_asked_of_rules_and_codebook(surveys: dict[str, pd.DataFrame]) -> None:
    asked_of = {
        "months_to_first_job": {"work", "work_and_study", "self_employed"},
        "job_found_via": {"work", "work_and_study"},
        "job_related_to_qualification": {"work", "work_and_study", "self_employed"},
        "contract_type": {"work", "work_and_study"},
        "working_time": {"work", "work_and_study", "self_employed"},
        "unpaid_extra_hours": {"work", "work_and_study"},
        "monthly_net_wage_band": {"work", "work_and_study", "self_employed"},
        "job_seeking_while_employed": {"work", "work_and_study"},
        "study_level": {"further_studies", "work_and_study"},
        "study_related_to_qualification": {"further_studies", "work_and_study"},
        "unemployment_reasons": {"unemployed"},
        "had_job_since_graduation": {"unemployed"},
    }
    for wave, d in surveys.items():
        items = PRE_GRADUATION_ITEMS if wave == "pre_graduation" else POST_GRADUATION_ITEMS
        others = POST_GRADUATION_ITEMS if wave == "pre_graduation" else PRE_GRADUATION_ITEMS
        assert not set(others) & set(d.columns)
        for item in [*items, "relevant_skills", "wish_learned_more", "alumni_contribution"]:
            values = _values(d[item])
            codes = values.str.split(";").explode() if item in MULTI_CHOICE else values
            assert set(codes) <= set(CODEBOOK[item]), (wave, item)
        if wave == "pre_graduation":
            continue
        complete = d[d.role != "unfinished"]
        for item, statuses in asked_of.items():
            asked = complete.current_status.isin(statuses)
            assert (complete.loc[~asked, item] == "").all(), (wave, item)
            assert (complete.loc[asked, item] != "").mean() > 0.99, (wave, item)
        assert (complete.expectations_met != "").all()
        none = complete.alumni_contribution.str.contains("none")
        assert (complete.alumni_contribution[none] == "none").all()  # `none` is exclusive


def test_status_mix_and_job_quality(surveys: dict[str, pd.DataFrame], register: pd.DataFrame) -> None:
    sectors = register[["school_code", "student_id", "sector_group"]].rename(
        columns={"school_code": "t_school", "student_id": "t_student"}
    )
    m6 = surveys["m6"][surveys["m6"].role == "final"].merge(sectors, on=["t_school", "t_student"])
    es = m6[m6.t_school.isin(SPANISH)]
    share = es.current_status.value_counts(normalize=True)
    assert share["work"] == pytest.approx(0.40, abs=0.05)
    assert share["work_and_study"] == pytest.approx(0.14, abs=0.04)
    assert share["further_studies"] == pytest.approx(0.29, abs=0.05)
    assert share["unemployed"] == pytest.approx(0.14, abs=0.04)
    assert share[["self_employed", "volunteering", "inactive"]].sum() < 0.06
    workers = m6[m6.current_status.isin(["work", "work_and_study"])]
    expected = {
        "industry": {"related": 0.86, "part": 0.06, "permanent": 0.08, "low": 0.44},
        "services": {"related": 0.66, "part": 0.57, "permanent": 0.14, "low": 0.80},
    }
    for sector, target in expected.items():
        w = workers[workers.sector_group == sector]
        banded = w[w.monthly_net_wage_band.isin(["lt1000", "1000to1499", "1500to1999", "ge2000"])]
        assert w.job_related_to_qualification.isin(["yes", "partly"]).mean() == pytest.approx(
            target["related"], abs=0.06
        )
        assert (w.working_time == "part_time").mean() == pytest.approx(target["part"], abs=0.06)
        assert (w.contract_type == "permanent").mean() == pytest.approx(target["permanent"], abs=0.05)
        assert (banded.monthly_net_wage_band == "lt1000").mean() == pytest.approx(target["low"], abs=0.07)
    employed = m6[m6.current_status.isin(["work", "work_and_study", "self_employed"])]
    assert (employed.months_to_first_job == "lt1").mean() == pytest.approx(0.67, abs=0.06)

    m18 = surveys["m18"][surveys["m18"].role == "final"]
    s6, s18 = m6.current_status.value_counts(normalize=True), m18.current_status.value_counts(normalize=True)
    assert s18["work"] > s6["work"] + 0.05
    assert s18["unemployed"] < s6["unemployed"] - 0.02
    w6 = m6[m6.current_status.isin(["work", "work_and_study"])]
    w18 = m18[m18.current_status.isin(["work", "work_and_study"])]
    assert (w18.contract_type == "permanent").mean() > (w6.contract_type == "permanent").mean() + 0.08


def test_trajectories_are_correlated(sample: SampleSummary) -> None:
    g = truth(sample, "graduates.csv")
    further = g[g.plan_after_graduation == "further_studies"]
    work = g[g.plan_after_graduation == "work"]
    assert (further.status_m6 == "further_studies").mean() > (
        work.status_m6 == "further_studies"
    ).mean() + 0.3
    assert (work.status_m6 == "work").mean() > (further.status_m6 == "work").mean() + 0.3
    stay = (g[g.status_m6 == "work"].status_m18 == "work").mean()
    assert stay > (g.status_m18 == "work").mean() + 0.1  # a transition, not an independent draw


# ---- identification and truth -------------------------------------------------------------------


def test_truth_responses_match_landing_files(sample: SampleSummary) -> None:
    resp = truth(sample, "responses.csv")
    seen = set()
    for p in (sample.landing / "surveys").rglob("*.csv"):
        rel = str(p.relative_to(sample.landing))
        d = read(p)
        key = next(k for k in ("id", "Response ID", "response_id") if k in d.columns)
        assert d[key].is_unique
        seen |= {(rel, r) for r in d[key]}
    assert seen == set(zip(resp.file, resp.response_id, strict=True))
    g = truth(sample, "graduates.csv")
    known = set(zip(g.school_code, g.student_id, strict=True))
    assert set(zip(resp.school_code, resp.student_id, strict=True)) <= known


def test_identification_noise_is_realistic_but_linkable(
    surveys: dict[str, pd.DataFrame], register: pd.DataFrame
) -> None:
    reg = register.rename(columns={"school_code": "t_school", "student_id": "t_student"})
    d = pd.concat(surveys.values())
    d = d[d.role != "unfinished"].merge(reg, on=["t_school", "t_student"], suffixes=("", "_reg"))
    assert (d.student_id == "").mean() == pytest.approx(0.10, abs=0.02)
    given = d[d.student_id != ""]
    assert (given.student_id == given.t_student).all()
    first_ok = d.first_name.map(norm) == d.first_name_reg.map(norm)
    last_ok = d.last_name.map(norm) == d.last_name_reg.map(norm)
    birth_ok = d.birth_date == d.birth_date_reg
    mail_ok = (d.email.str.lower() == d.email_reg.str.lower()) & (d.email != "")
    assert 0.02 < (~first_ok | ~last_ok).mean() < 0.15
    assert 0.01 < ((d.birth_date != "") & ~birth_ok).mean() < 0.03
    assert ((d.email != d.email_reg) & mail_ok).any()  # another case
    accents = (
        (d.last_name != d.last_name_reg) & last_ok & (d.last_name.str.lower() != d.last_name_reg.str.lower())
    )
    assert accents.any()  # dropped accents
    no_sid = d[d.student_id == ""]
    hard = (~first_ok).astype(int) + (~last_ok).astype(int) + (~birth_ok).astype(int)
    assert (hard[no_sid.index] <= 1).all()
    misses = hard + (~mail_ok).astype(int)
    assert (misses[no_sid.index] <= 2).all()
    assert (no_sid.first_name != "").all() and (no_sid.birth_date != "").all()


def test_limesurvey_export_and_mapping(sample: SampleSummary, register: pd.DataFrame) -> None:
    resp = truth(sample, "responses.csv")
    tokens = register[register.school_code == "IT-COMETA"].set_index("student_id").token
    assert tokens.str.fullmatch(r"[A-Za-z0-9]{15}").all()
    for wave in (w for w in WAVES if w != LIMESURVEY6_WAVE):  # the older "answer codes" export
        csv = sample.landing / f"surveys/{wave}/it_cometa_2019.csv"
        mapping = yaml.safe_load(csv.with_suffix(".yaml").read_text())
        assert mapping["format"] == "limesurvey" and mapping["wave"] == wave
        assert mapping["constants"] == {"school_code": "IT-COMETA"}
        assert mapping["checked"] == ["Y"]
        d = read(csv)
        mapped = set(mapping["columns"]) | {c for m in mapping["multi"].values() for c in m}
        assert set(d.columns) - mapped <= {"lastpage", "seed", "datestamp", "interviewtime"}
        assert {"id", "submitdate", "startdate", "token", "startlanguage"} <= mapped
        canonical = set(mapping["columns"].values()) | set(mapping["multi"])
        items = PRE_GRADUATION_ITEMS if wave == "pre_graduation" else POST_GRADUATION_ITEMS
        assert set(items) | {"relevant_skills", "wish_learned_more", "alumni_contribution"} <= canonical
        for source, target in mapping["columns"].items():
            if target in mapping["values"]:
                assert set(_values(d[source])) <= set(mapping["values"][target]), source
                assert set(mapping["values"][target].values()) <= set(CODEBOOK[target])
        for target, cols in mapping["multi"].items():
            assert set(cols.values()) == set(CODEBOOK[target])
            for col in cols:
                assert set(d[col]) <= {"Y", ""}
        if wave != "pre_graduation":
            assert mapping["values"]["current_status"]["A1"] == "work"
        assert set(d.startlanguage) == {"it"}
        t = resp[resp.file == f"surveys/{wave}/it_cometa_2019.csv"].set_index("response_id")
        owner = t.loc[d.id, "student_id"].to_numpy()
        assert (d.token.to_numpy() == tokens.loc[owner].to_numpy()).all()  # same token in all waves
        assert ((d.submitdate == "") == (t.loc[d.id, "role"].to_numpy() == "unfinished")).all()


def test_limesurvey6_default_export_with_its_structure(sample: SampleSummary) -> None:
    """The m18 wave comes as LimeSurvey 6 exports by default: full texts, full answers, its .lss."""
    csv = sample.landing / f"surveys/{LIMESURVEY6_WAVE}/it_cometa_2019.csv"
    data = csv.read_bytes()
    assert (
        data.startswith(b"\xef\xbb\xbf")
        and data.endswith(b"\r\n\r\n")
        and b"\n" not in data.replace(b"\r\n", b"")
    )
    header, first = data[3:].decode("utf-8").split("\r\n")[:2]
    assert header.startswith('"Response ID","Date submitted","Last page","Start language"')
    assert first.startswith('"') and ",," in data.decode("utf-8")  # not shown: empty and unquoted
    structure = read_structure(csv.with_suffix(".lss"), "m18")
    assert structure.languages == ["it", "en"]
    assert [q.code for q in structure.questions][:6] == list(LS_IDENT)
    skills = structure.question("Q07")
    assert skills is not None and skills.type == "M" and len(skills.subquestions) == 7
    short = yaml.load(csv.with_suffix(".yaml").read_text(), Loader=yaml.BaseLoader)
    assert set(short) == {"wave", "constants", "questions", "answers"}
    assert (
        short["questions"]["Q01"] == "current_status" and short["answers"]["current_status"]["A1"] == "work"
    )
    text = data.decode("utf-8")
    assert '"Sì"' in text and '"N/A"' in text and '"Altro"' not in text.split("\r\n")[0]


def test_admin_spells(sample: SampleSummary, register: pd.DataFrame) -> None:
    root = sample.landing
    spells_truth = truth(sample, "spells.csv")
    g = truth(sample, "graduates.csv")
    tgss = read(root / "admin/es_tgss_2021.csv")
    assert list(tgss.columns) == list(ES_TGSS.names)
    assert set(tgss.source) == {"es_tgss"} and set(tgss.regime) == {"RG", "RETA"}
    reta = tgss[tgss.regime == "RETA"]
    assert (reta.contract_key == "").all() and (reta.employer_id == "").all()
    allowed = {100, 109, 130, 150, 189, 200, 209, 230, 250, 289, 300, 309, 389}
    allowed |= {401, 402, 410, 420, 421, 450, 501, 502, 510, 520, 521, 550}
    keys = tgss[tgss.regime == "RG"].contract_key.astype(int)
    assert set(keys) <= allowed and {1, 2, 4, 5} <= set(keys // 100)
    part = tgss.contract_key.str[0].isin(["2", "5"])
    full = tgss.contract_key.str[0].isin(["1", "4"]) | (tgss.regime == "RETA")
    assert (tgss.part_time_pct[part] != "").all() and (tgss.part_time_pct[full] == "").all()
    for name in ("ee_emta_2021.csv", "it_inps_2021.csv"):
        d = read(root / "admin" / name)
        assert set(d.contract_type) <= set(CODEBOOK["admin_contract_type"])
        assert set(d.source) == {name.rsplit("_", 1)[0]}

    # Truth lines point at the right rows; outsiders and non-respondents are there.
    frames = {}
    for f, t in spells_truth.groupby("file"):
        d = read(root / f)
        assert len(d) == len(t) and (t.line.astype(int) == t.row_index.astype(int) + 2).all()
        frames[f] = d.assign(file=f, row_index=range(len(d)))
    spells = (
        pd.concat(frames.values()).astype({"row_index": str}).merge(spells_truth, on=["file", "row_index"])
    )
    assert (spells.episode == "outsider").mean() > 0.1
    assert (spells[spells.episode == "outsider"].student_id == "").all()
    inside = spells[spells.student_id != ""].merge(
        g, on=["school_code", "student_id", "cohort"], suffixes=("", "_t")
    )
    assert (inside.national_id == inside.national_id_t).all()
    assert (inside.has_national_id == "false").any()  # spells of graduates the register can't link
    assert (inside.responded_m6 == "false").any()

    # Agreement with the truth at m6: formal wage earners have a spell, informal ones mostly don't.
    keys = ["school_code", "student_id"]
    g = g.merge(register[[*keys, "graduation_date"]], on=keys)
    g = g[g.school_code != "NL-ALFA"].assign(ref=lambda x: when(x.graduation_date) + pd.Timedelta(days=183))
    s = spells[spells.student_id != ""].merge(g[[*keys, "ref"]], on=keys)
    start, end = when(s.spell_start), when(s.spell_end)
    s["covers"] = (start <= s.ref) & (end.isna() | (end >= s.ref))
    covered = s.groupby(keys).covers.any()
    g["covered"] = covered.reindex(pd.MultiIndex.from_frame(g[keys]), fill_value=False).to_numpy()
    wage = g.status_m6.isin(["work", "work_and_study"]) & (g.works_abroad == "false")
    formal = wage & (g.contract_type_m6 != "no_contract")
    informal = wage & (g.contract_type_m6 == "no_contract")
    assert g.covered[formal].mean() > 0.9
    assert g.covered[informal].mean() < 0.3
    assert 0.04 < informal.sum() / wage.sum() < 0.15
    assert g.covered[g.status_m6 == "further_studies"].mean() < 0.15


def test_context_indicators(sample: SampleSummary) -> None:
    d = read(sample.landing / "context/eurostat_unemployment.csv")
    assert list(d.columns) == ["region", "year", "indicator", "value", "source"]
    assert set(d.region) == {"ES12", "EE00", "ITC4", "NL11", "ES", "EE", "IT", "NL"}
    assert set(d.year.astype(int)) == set(range(min(COHORTS), max(COHORTS) + 3))
    assert set(d.indicator) == {"unemployment_rate_15_24", "unemployment_rate_total"}
    assert set(d.source) == {"Eurostat lfst_r_lfu3rt"}
    youth = d[(d.region == "ES12") & (d.indicator == "unemployment_rate_15_24")].value.astype(float)
    assert youth.between(30, 45).all()
    assert np.isfinite(d.value.astype(float)).all()
