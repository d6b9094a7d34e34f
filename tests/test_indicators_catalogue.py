"""The indicator catalogue of the dbt project against the contract and the indicator spec.

The dbt macros carry the answer codes indicators are generated from (one indicator per channel,
reason, skill...) and the seed `codebook.csv` carries the whole codebook: both must agree with
ingestion/contract.py. The catalogue itself (macros/indicators/indicator_catalogue.sql) is rendered
with plain Jinja and compared with the list of indicators the spec names, source by source.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import jinja2
import pytest

from ingestion import contract

DBT = Path(__file__).resolve().parents[1] / "dbt_project"
MACROS = DBT / "macros" / "indicators"


class _Returned(Exception):
    def __init__(self, value):
        self.value = value


def _raise_return(value):
    raise _Returned(value)


def _call_macro(files: list[Path], call: str, **globals_):
    """Render dbt macros outside dbt: `return(x)` raises with x; adapter-specific helpers are stubbed."""
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    env.globals.update(globals_)
    env.globals["return"] = _raise_return
    source = "\n".join(f.read_text(encoding="utf-8") for f in files)
    template = env.from_string(source + "\n{{ " + call + " }}")
    try:
        template.render()
    except _Returned as returned:
        return returned.value
    raise AssertionError(f"{call} returned nothing")


def _codes(item: str) -> list[str]:
    return _call_macro([MACROS / "codebook.sql"], f"gradtrack_codes('{item}')")


@pytest.mark.parametrize(
    "item",
    [
        "sex",
        "plan_after_graduation",
        "relevant_skills",
        "wish_learned_more",
        "alumni_contribution",
        "current_status",
        "job_found_via",
        "study_level",
        "unemployment_reasons",
    ],
)
def test_macro_codebook_matches_contract(item: str) -> None:
    assert _codes(item) == list(contract.CODEBOOK[item])


def test_codebook_seed_matches_contract() -> None:
    with (DBT / "seeds" / "codebook.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    seeded: dict[str, list[str]] = {}
    for row in sorted(rows, key=lambda r: (r["item"], int(r["position"]))):
        seeded.setdefault(row["item"], []).append(row["code"])
    assert seeded == {item: list(codes) for item, codes in contract.CODEBOOK.items()}


def _catalogue() -> list[dict]:
    def codes(item):
        return _codes(item)

    return _call_macro(
        [MACROS / "indicator_catalogue.sql"],
        "indicator_catalogue()",
        gradtrack_codes=codes,
        gt_has_code=lambda column, code: f"has({column}, '{code}')",
    )


def _spec_catalogue() -> set[tuple[str, str]]:
    """(indicator, source) pairs of shared/spec/indicators.md (v1), codes expanded from the contract."""
    C = contract.CODEBOOK
    survey = {
        "graduates", "share_women", "response_rate", "completion_rate", "median_minutes_to_complete",
        "linked_across_waves_rate", "employed_share", "studying_share",
        "job_related_to_qualification", "job_partly_related_to_qualification", "part_time_share",
        "permanent_contract_share", "wage_below_1000_share", "jobseeking_while_employed_share",
        "unpaid_extra_hours_share", "first_job_within_1_month", "study_related_to_qualification",
        "combining_work_and_study", "had_job_since_graduation", "labour_market_expectations_met",
        "study_expectations_met", "self_reported_expectations_met", "alumni_contact_consent",
        "eqavet5a_placement_rate", "eqavet5b_employment_rate", "eqavet6a_skills_utilisation",
    }  # fmt: skip
    survey |= {f"status_{s}" for s in C["current_status"]}
    survey |= {f"job_found_via_{c}" for c in C["job_found_via"]}
    survey |= {f"study_level_{c}" for c in C["study_level"]}
    survey |= {f"unemployment_reason_{c}" for c in C["unemployment_reasons"]}
    survey |= {f"relevant_skill_{c}" for c in C["relevant_skills"]}
    survey |= {f"wish_learned_more_{c}" for c in C["wish_learned_more"]}
    survey |= {f"alumni_contribution_{c}" for c in C["alumni_contribution"]}
    pairs = {(i, "survey") for i in survey}
    pairs |= {
        ("eqavet5a_placement_rate", "combined"),
        ("eqavet5b_employment_rate", "admin"),
        ("eqavet5b_employment_rate", "combined"),
        ("eqavet5b_employment_rate", "survey_weighted"),
        ("admin_permanent_share", "admin"),
        ("admin_part_time_share", "admin"),
        ("admin_median_days_to_first_job", "admin"),
        ("admin_share_of_months_employed", "admin"),
        ("survey_admin_employment_agreement", "combined"),
        ("nonresponse_gap_employment", "admin"),
    }
    return pairs


def test_catalogue_covers_the_spec() -> None:
    built = {(e["indicator"], e["source"]) for e in _catalogue()}
    missing = _spec_catalogue() - built
    assert not missing, sorted(missing)
    # the only additions: survey_weighted versions of the status family and EQAVET 5a
    extra = built - _spec_catalogue()
    assert {source for _, source in extra} == {"survey_weighted"}
    assert {i for i, _ in extra} <= {"employed_share", "studying_share", "eqavet5a_placement_rate"} | {
        f"status_{s}" for s in contract.CODEBOOK["current_status"]
    }


def test_catalogue_entries_are_well_formed() -> None:
    entries = _catalogue()
    ids = [(e["indicator"], e["source"]) for e in entries]
    assert len(ids) == len(set(ids)), "an indicator and source defined twice"
    for e in entries:
        assert re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", e["indicator"]), e["indicator"]
        assert e["kind"] in {"count", "proportion", "median", "ratio", "difference"}
        assert set(e["waves"]) <= {"pre_graduation", "m6", "m18"} and e["waves"]
        assert e["base"] and e["definition"]
        if e["kind"] != "count":
            assert e.get("numerator"), e["indicator"]
        if e["source"] in {"admin", "combined"} or e["indicator"].startswith("status_"):
            assert "pre_graduation" not in e["waves"], e["indicator"]
