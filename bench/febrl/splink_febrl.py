"""Splink 5 on the FEBRL4 landing folder that run_febrl.py wrote: the comparison side of the benchmark.

    build/febrl/venv/bin/python bench/febrl/splink_febrl.py LANDING OUT.json

Runs in its own virtual environment (Splink pins its own DuckDB; run_febrl.py creates it), never in the
project's. The register (FEBRL4's originals) and the m6 responses (their duplicates) are linked
(`link_only`) on first name, surname, birth date and national id, with Splink's usual model: names by
Jaro-Winkler levels with term-frequency adjustments, birth date by Splink's date-of-birth levels, the
national id by Damerau-Levenshtein 1 and 2; u by random sampling, m by expectation maximisation,
blocking on each field alone. The pairwise predictions are made one-to-one (greedily by match
probability: each response and each graduate in at most one link). Results: at Splink's usual
threshold 0.9, and at the threshold that maximises F1 among thresholds >= 0.5 and among all, chosen
using the truth (Splink's best case; a user cannot do this). With no floor the best threshold is near
0: every FEBRL4 duplicate has its original, so one-to-one assignment of all blocked pairs is nearly
perfect here, which it would not be on responses from people missing in the register.
Writes {"results": [{label, links, correct, precision, recall, f1, seconds}]}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.backends.duckdb import DuckDBAPI

THRESHOLDS = [10**-k for k in range(6, 2, -1)] + [i / 100 for i in range(1, 100)] + [0.995, 0.999]


def _tables(con: duckdb.DuckDBPyConnection, landing: Path) -> None:
    con.execute(
        """
        create table register as
        select student_id as unique_id, nullif(lower(first_name), '') as first_name,
            nullif(lower(last_name), '') as surname, nullif(birth_date, '') as dob,
            nullif(national_id, '') as soc_sec_id, student_id as rec
        from read_csv(?, all_varchar = true)
        """,
        [str(landing / "register" / "febrl4a.csv")],
    )
    con.execute(
        """
        create table responses as
        select response_id as unique_id, nullif(lower(first_name), '') as first_name,
            nullif(lower(last_name), '') as surname, nullif(birth_date, '') as dob,
            nullif(national_id, '') as soc_sec_id, split_part(response_id, '-', 2) as rec
        from read_csv(?, all_varchar = true)
        """,
        [str(landing / "surveys" / "m6" / "febrl4b.csv")],
    )


def _one_to_one(pairs: list[tuple[str, str, float]], threshold: float) -> list[tuple[str, str]]:
    """Greedy one-to-one: best probability first, each side used once."""
    used_l: set[str] = set()
    used_r: set[str] = set()
    links = []
    for left, right, p in pairs:  # sorted by probability, descending
        if p < threshold:
            break
        if left in used_l or right in used_r:
            continue
        used_l.add(left)
        used_r.add(right)
        links.append((left, right))
    return links


def _score(links: list[tuple[str, str]], truth: dict[str, str], duplicates: int) -> dict[str, float]:
    correct = sum(truth.get(right) == left for left, right in links)
    precision = correct / len(links) if links else 1.0
    recall = correct / duplicates
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"links": len(links), "correct": correct, "precision": precision, "recall": recall, "f1": f1}


def main(landing: Path, out: Path) -> None:
    started = time.perf_counter()
    con = duckdb.connect()
    _tables(con, landing)
    db_api = DuckDBAPI(con)
    register = db_api.register("register", dataset_display_name="register")
    responses = db_api.register("responses", dataset_display_name="responses")
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name"),
            block_on("surname"),
            block_on("dob"),
            block_on("soc_sec_id"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker([register, responses], settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob"), block_on("soc_sec_id")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname"))
    predictions = linker.inference.predict(threshold_match_probability=1e-6)
    rows = predictions.as_duckdbpyrelation().fetchall()
    columns = predictions.as_duckdbpyrelation().columns
    took = time.perf_counter() - started
    i_l, i_r, i_p = (
        columns.index("unique_id_l"),
        columns.index("unique_id_r"),
        columns.index("match_probability"),
    )
    source_l = columns.index("source_dataset_l") if "source_dataset_l" in columns else None
    pairs = []
    for row in rows:
        left, right = row[i_l], row[i_r]
        if source_l is not None and row[source_l] != "register":
            left, right = right, left
        pairs.append((left, right, row[i_p]))
    pairs.sort(key=lambda pair: -pair[2])
    truth = dict(con.execute("select unique_id, rec from responses").fetchall())
    duplicates = len(truth)
    usual = _score(_one_to_one(pairs, 0.9), truth, duplicates)
    results = [{"label": "p >= 0.9, one-to-one", **usual, "seconds": took}]
    for floor, what in ((0.5, "p >= 0.5"), (0.0, "any p")):
        best_threshold, best = max(
            ((t, _score(_one_to_one(pairs, t), truth, duplicates)) for t in THRESHOLDS if t >= floor),
            key=lambda item: item[1]["f1"],
        )
        label = f"best threshold over {what}: p >= {best_threshold} (chosen with the truth), one-to-one"
        results.append({"label": label, **best, "seconds": took})
    out.write_text(json.dumps({"results": results}, indent=2))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: splink_febrl.py LANDING OUT.json")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
