"""LimeSurvey 6 exports as a school really makes them, read through the survey's `.lss`.

The sample generator writes the Cometa questionnaire's structure and its m6 responses under each set
of export options; every variant must load every response with every answer and identifier the
generator drew (its truth), without a hand-written mapping of each column.
"""

from __future__ import annotations

import numpy as np
import pytest

from ingestion.contract import CODEBOOK
from ingestion.db import rows
from ingestion.loaders import load_source
from ingestion.sample import limesurvey6
from ingestion.sample.population import Taken, draw_cohort
from ingestion.sample.schools import SCHOOLS
from ingestion.sample.surveys import LS_QUESTION, MULTI, build_wave, questions

SEED, COHORT, GRADUATES = 11, 2019, 400
COMETA = next(i for i, s in enumerate(SCHOOLS) if s.survey_tool == "limesurvey")
REL = "surveys/m6/it_cometa_2019.csv"


@pytest.fixture(scope="module")
def drawn():
    pop = draw_cohort(SEED, COHORT, GRADUATES, Taken())
    return pop, build_wave(SEED, pop, "m6")


def _expected(resp, rows_) -> list[tuple]:
    """The generator's answers of each exported response, as the contract's codes."""
    out = []
    for r in rows_:
        answers = []
        for item in questions("m6"):
            if item in MULTI:
                ticked = [c for c, t in zip(CODEBOOK[item], resp.multi[item][r], strict=True) if t]
                answers.append(";".join(sorted(ticked)) or None)
            else:
                idx = resp.single[item][r]
                answers.append(CODEBOOK[item][idx] if idx >= 0 else None)
        out.append(tuple(answers))
    return out


@pytest.mark.parametrize("variant", limesurvey6.VARIANTS)
def test_every_export_variant_loads_every_response_and_answer(variant, drawn, tmp_path, warehouse, key):
    pop, resp = drawn
    landing = tmp_path / "landing"
    rows_, _ids = limesurvey6.write_export(landing, REL, resp, pop, COMETA, variant, np.random.default_rng(1))
    data = (landing / REL).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.endswith(b"\r\n\r\n")  # BOM, CRLF, blank line
    (report,) = load_source(warehouse, landing, "survey", key, wave="m6")
    assert report.status == "loaded", report.message
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (len(rows_),) * 2 + (0,)
    assert report.cells_quarantined == 0, rows(warehouse, "select * from audit.quarantine limit 5")
    items = ", ".join(questions("m6"))
    got = rows(
        warehouse,
        f"select {items} from raw.survey_m6 order by response_id::integer",
    )
    assert got == _expected(resp, rows_)
    # Paradata and identifiers: completion, the school, and what linkage needs.
    complete = rows(
        warehouse, "select is_complete, school_code from raw.survey_m6 order by response_id::integer"
    )
    assert [c for c, _ in complete] == list(resp.role[rows_] != 2)
    assert {s for _, s in complete} == {SCHOOLS[COMETA].code}
    ident = rows(
        warehouse,
        "select s.student_id, s.token, r.started_at from restricted.survey_identifiers s "
        "join raw.survey_m6 r using (response_key) order by r.response_id::integer",
    )
    assert [i[0] for i in ident] == resp.student_id.take(rows_).to_pylist()
    if variant == "anonymized":
        assert {i[1] for i in ident} == {None} and {i[2] for i in ident} == {None}  # no token, no date
    else:
        assert [i[1] for i in ident] == pop.token.take(resp.g[rows_]).to_pylist()
    # Free text of "Other" never reaches an analytical table.
    text = rows(warehouse, "select count(*) from raw.survey_m6 where job_found_via like '%amico%'")
    assert text == [(0,)]


def test_anonymized_survey_loads_in_a_cohort_run(drawn, tmp_path, warehouse, key):
    """No fieldwork date: a `--cohort` run must not leave the file out as "another cohort's"."""
    pop, resp = drawn
    landing = tmp_path / "landing"
    limesurvey6.write_export(landing, REL, resp, pop, COMETA, "anonymized", np.random.default_rng(2))
    (report,) = load_source(warehouse, landing, "survey", key, wave="m6", cohorts=[2019])
    assert report.status == "loaded" and report.rows_loaded > 0
    assert "no fieldwork dates" in report.message


def test_a_mapped_question_missing_from_the_file_is_named(drawn, tmp_path, warehouse, key):
    pop, resp = drawn
    landing = tmp_path / "landing"
    limesurvey6.write_export(landing, REL, resp, pop, COMETA, "codes", np.random.default_rng(3))
    mapping = landing / REL.replace(".csv", ".yaml")
    mapping.write_text(mapping.read_text().replace(f"  {LS_QUESTION['current_status']}:", "  Q99:"))
    (report,) = load_source(warehouse, landing, "survey", key, wave="m6", raise_on_failure=False)
    assert report.status == "rejected" and "'Q99'" in report.message
