"""Record linkage against the sample generator's ground truth, through the real CLI, Dagster and dbt.

A noisy sample (3,000 graduates; about 10 % of the responses without student id, with typos, one surname
of two, swapped birth dates, other e-mails) is generated, run with `gradtrack run`, and the crosswalk is
joined back to `<landing>.truth/responses.csv`. docs/linkage.md reports the numbers; for a bigger sample:

    python -m tests.test_linkage WAREHOUSE TRUTH_DIR KEY
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from ingestion.pseudonym import PseudonymKey
from ingestion.sample import generate
from tests.conftest import ROOT, TEST_KEY, gradtrack_env

pytestmark = pytest.mark.slow

GRADTRACK = str(Path(sys.executable).with_name("gradtrack"))
DBT = str(Path(sys.executable).with_name("dbt"))
GRADUATES, SEED = 3000, 2
MIN_PRECISION, MIN_RECALL = 0.995, 0.98

_RAW_RESPONSES = " union all ".join(
    f"select response_key, response_id, _source_file from raw.survey_{wave}"
    for wave in ("pre_graduation", "m6", "m18")
)


def _env(tmp: Path) -> dict[str, str]:
    """The test environment, with this interpreter's bin folder (dbt) first on PATH."""
    env = gradtrack_env(tmp)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def join_truth(con: duckdb.DuckDBPyConnection, truth: Path, key: PseudonymKey) -> None:
    """Temp table `linkage_truth`: every response of the truth with its true and its linked graduate."""
    truth_rows = con.sql(
        "select wave, file, response_id, school_code, student_id, role"
        " from read_csv($path, all_varchar = true)",
        params={"path": str(truth / "responses.csv")},
    ).to_arrow_table()
    schools, students = truth_rows["school_code"].to_pylist(), truth_rows["student_id"].to_pylist()
    true_keys = [key.python_hmac(f"graduate|{s}|{i}") for s, i in zip(schools, students, strict=True)]
    truth_responses = truth_rows.append_column("true_graduate_key", pa.array(true_keys, pa.string()))
    con.register("truth_responses", truth_responses)
    con.execute(f"""
        create or replace temp table linkage_truth as
        select
            t.wave, t.file, t.response_id, t.role, t.true_graduate_key,
            t.true_graduate_key in (select graduate_key from restricted.register_identifiers)
                as in_register,
            c.response_key, c.graduate_key, c.link_method, c.link_score,
            l.is_respondent_record,
            coalesce(
                i.token, i.student_id, i.national_id, i.first_name_norm, i.last_name_norm, i.email_norm,
                cast(i.birth_date as varchar)
            ) is not null as gave_identifiers
        from truth_responses t
        left join ({_RAW_RESPONSES}) r on r._source_file = t.file and r.response_id = t.response_id
        left join restricted.linkage_crosswalk c on c.response_key = r.response_key
        left join intermediate.int_survey_responses_linked l on l.response_key = r.response_key
        left join restricted.survey_identifiers i on i.response_key = r.response_key
    """)


def measure(con: duckdb.DuckDBPyConnection, truth: Path, key: PseudonymKey) -> dict[str, float]:
    """Precision = correct links / links made; recall = correct links / responses of register graduates."""
    join_truth(con, truth, key)
    row = con.execute("""
        select
            count(*),
            count(response_key),
            count(*) filter (where in_register),
            count(graduate_key),
            count(*) filter (where graduate_key = true_graduate_key),
            count(*) filter (where graduate_key = true_graduate_key and in_register),
            count(*) filter (where link_method = 'probabilistic'),
            count(*) filter (where link_method = 'probabilistic' and graduate_key = true_graduate_key),
            count(*) filter (where in_register and gave_identifiers),
            count(*) filter (where graduate_key = true_graduate_key and in_register and gave_identifiers),
            (select count(*) from restricted.linkage_review),
            (select count(distinct response_key) from restricted.linkage_review)
        from linkage_truth
    """).fetchone()
    assert row is not None
    total, matched, in_register, links, correct, correct_in_register, prob, prob_correct = row[:8]
    identifiable, correct_identifiable, review_pairs, review_responses = row[8:]
    return {
        "responses": total,
        "responses_found": matched,
        "responses_of_register_graduates": in_register,
        "links": links,
        "correct_links": correct,
        "precision": correct / links if links else 1.0,
        "recall": correct_in_register / in_register if in_register else 1.0,
        "probabilistic_links": prob,
        "probabilistic_precision": prob_correct / prob if prob else 1.0,
        "responses_with_identifiers": identifiable,
        "recall_of_responses_with_identifiers": correct_identifiable / identifiable if identifiable else 1.0,
        "review_pairs": review_pairs,
        "review_responses": review_responses,
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, Path]:
    tmp = tmp_path_factory.mktemp("linkage")
    landing, warehouse = tmp / "landing", tmp / "wh" / "gradtrack.duckdb"
    generate(landing, graduates=GRADUATES, cohorts=[2019], seed=SEED)
    proc = subprocess.run(
        [GRADTRACK, "run", "--landing", str(landing), "--warehouse", str(warehouse)],
        cwd=ROOT,
        env=_env(tmp),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return tmp, landing, warehouse


@pytest.fixture(scope="module")
def quality(built) -> dict[str, float]:
    _, landing, warehouse = built
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return measure(con, landing.parent / f"{landing.name}.truth", PseudonymKey.resolve(TEST_KEY))
    finally:
        con.close()


def test_every_response_is_in_the_crosswalk_once(quality):
    assert quality["responses"] > 2 * GRADUATES
    assert quality["responses_found"] == quality["responses"]


def test_precision_and_recall_against_the_truth(quality):
    print(quality)
    assert quality["precision"] >= MIN_PRECISION, quality
    assert quality["recall"] >= MIN_RECALL, quality
    # The approximate matching does real work here and is as precise as the identifier rules.
    assert quality["probabilistic_links"] > 0.03 * quality["links"], quality
    assert quality["probabilistic_precision"] >= MIN_PRECISION, quality


def test_the_latest_complete_submission_is_the_respondent_record(built, quality):
    _, landing, warehouse = built
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        join_truth(con, landing.parent / f"{landing.name}.truth", PseudonymKey.resolve(TEST_KEY))
        agree, linked = con.execute("""
            select count(*) filter (where is_respondent_record = (role = 'final')), count(*)
            from linkage_truth where graduate_key = true_graduate_key
        """).fetchone()
        counted, superseded = con.execute("""
            select count(*) filter (where is_respondent_record), count(*)
            from linkage_truth where role = 'superseded_duplicate'
        """).fetchone()
    finally:
        con.close()
    assert agree >= 0.999 * linked
    assert superseded > 0 and counted <= 0.01 * superseded


def test_linkage_keeps_personal_data_in_restricted(built):
    _, _, warehouse = built
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cols = {
            (schema, table)
            for schema, table in con.execute(
                "select table_schema, table_name from information_schema.columns"
                " where regexp_matches(column_name, '(first_name_norm|email_norm|birth_date|national_id)$')"
            ).fetchall()
        }
    finally:
        con.close()
    assert ("restricted", "linkage_review") in cols
    assert {schema for schema, _ in cols} == {"restricted"}


def _dbt_build_linkage(tmp: Path, warehouse: Path, decisions: Path) -> subprocess.CompletedProcess:
    env = _env(tmp)
    env.update(GRADTRACK_WAREHOUSE=str(warehouse), GRADTRACK_LINKAGE_DECISIONS=str(decisions))
    return subprocess.run(
        [
            DBT, "build", "--select", "+linkage_crosswalk", "+linkage_review", "int_survey_responses_linked",
            "--project-dir", "dbt_project", "--profiles-dir", "dbt_project",
            "--target-path", str(tmp / "dbt_target_decisions"), "--log-path", str(tmp / "dbt_logs_decisions"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip


def test_reviewer_decisions_override_the_automatic_result(built, tmp_path):
    """A decisions file (Excel style: `;`, BOM, mixed-case header) is applied on the next build."""
    _, _, warehouse = built
    copy = tmp_path / "decided" / "gradtrack.duckdb"
    copy.parent.mkdir()
    shutil.copy(warehouse, copy)
    con = duckdb.connect(str(copy), read_only=True)
    try:
        prob_response, prob_graduate = con.execute(
            "select response_key, graduate_key from restricted.linkage_crosswalk"
            " where link_method = 'probabilistic' order by response_key limit 1"
        ).fetchone()
        unlinked_response = con.execute(
            "select response_key from restricted.linkage_crosswalk"
            " where link_method = 'unlinked' order by response_key limit 1"
        ).fetchone()[0]
        some_graduate = con.execute(
            "select min(graduate_key) from restricted.register_identifiers"
        ).fetchone()[0]
    finally:
        con.close()
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(
        "Response_Key;Graduate_Key;Decision;Decided_By;Decided_On;Note\n"
        f'{prob_response};{prob_graduate};no_match;AB;2024-05-02;"not her; other school year"\n'
        f"{unlinked_response};{some_graduate};match;CD;2024-05-03;called the school\n",
        encoding="utf-8-sig",
    )
    proc = _dbt_build_linkage(tmp_path, copy, decisions)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "WARN=0" in proc.stdout and "ERROR=0" in proc.stdout
    con = duckdb.connect(str(copy), read_only=True)
    try:
        rows = dict(
            (r[0], r[1:])
            for r in con.execute(
                "select response_key, graduate_key, link_method, link_score"
                " from restricted.linkage_crosswalk where response_key in (?, ?)",
                [prob_response, unlinked_response],
            ).fetchall()
        )
        in_review = con.execute(
            "select count(*) from restricted.linkage_review where response_key = ? and graduate_key = ?",
            [prob_response, prob_graduate],
        ).fetchone()[0]
        downstream = con.execute(
            "select graduate_key, link_method from intermediate.int_survey_responses_linked"
            " where response_key = ?",
            [unlinked_response],
        ).fetchone()
    finally:
        con.close()
    assert rows[unlinked_response] == (some_graduate, "manual_review", 1.0)
    assert rows[prob_response][0] != prob_graduate
    assert in_review == 0
    assert downstream == (some_graduate, "manual_review")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: python -m tests.test_linkage WAREHOUSE TRUTH_DIR KEY")
    _con = duckdb.connect(sys.argv[1], read_only=True)
    for name, value in measure(_con, Path(sys.argv[2]), PseudonymKey.resolve(sys.argv[3])).items():
        print(f"{name:38} {value:.5f}" if isinstance(value, float) else f"{name:38} {value}")
