"""`generate`: write a deterministic sample landing folder and, outside it, the ground truth.

The sample is what eight TRACKTION-like pilot schools, three admin sources and Eurostat would drop into
the landing folder (data contract v1), with the formats and the mess real tools produce. The truth
folder records what really happened, so that linkage, de-duplication and status estimates can be
checked against it; the pipeline never reads it.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.contract import ADMIN, CODEBOOK, CONTEXT, ES_TGSS, REGISTER, WAVES
from ingestion.sample import admin as admin_mod
from ingestion.sample import limesurvey6
from ingestion.sample.population import (
    QUAL_EQF,
    QUALS,
    Cohort,
    Taken,
    draw_cohort,
    graduate_truth,
    register_national_id,
    stream,
)
from ingestion.sample.schools import CONTEXT_SOURCE, SCHOOLS, UNEMPLOYMENT, unemployment_rate
from ingestion.sample.surveys import (
    ROLES,
    Rendered,
    build_wave,
    limesurvey_mapping,
    ls_header,
    render_canonical,
    render_limesurvey,
)
from ingestion.sample.text import (
    choose,
    format_dates,
    format_decimal,
    from_codes,
    int_str,
)
from ingestion.sample.writer import LIMESURVEY, PLAIN_UTF8, SPANISH_EXCEL, UTF8_BOM, CsvStyle, CsvWriter

LANDING_FOLDERS = ("register", "surveys", "admin", "context")
# The LimeSurvey school sends this wave as LimeSurvey 6 exports it by default (ingestion/sample/
# limesurvey6.py); its other waves as an older "answer codes" export with a full mapping file.
LIMESURVEY6_WAVE = "m18"


@dataclass(frozen=True)
class SampleSummary:
    """What `generate` wrote: counts, and where the landing folder and the truth went."""

    landing: Path
    truth: Path
    cohorts: tuple[int, ...]
    files: int  # landing files (CSV and mapping YAML)
    register_rows: int
    survey_rows: int
    admin_rows: int
    context_rows: int
    written: tuple[str, ...]  # landing files, relative to the landing folder


def school_style(country: str) -> CsvStyle:
    """Spanish schools and the TGSS send Excel-made Latin-1 `;` files; everybody else UTF-8 with BOM."""
    return SPANISH_EXCEL if country == "ES" else UTF8_BOM


def generate(
    out: Path,
    *,
    graduates: int = 2000,
    cohorts: Sequence[int] = (2019,),
    seed: int = 42,
    truth: Path | None = None,
    overwrite: bool = False,
) -> SampleSummary:
    """Write a sample landing folder for `graduates` graduates per cohort; same arguments, same bytes.

    `truth` defaults to the sibling folder `<out>.truth`; it must lie outside the landing folder. An
    existing non-empty landing or truth folder is refused unless `overwrite`, which then removes the
    landing sub-folders this generator writes (register, surveys, admin, context) and the truth folder.
    """
    if graduates < 1:
        raise ValueError("graduates must be at least 1")
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    years = tuple(sorted({int(c) for c in cohorts}))
    if not years:
        raise ValueError("at least one cohort is needed")
    out = Path(out)
    truth = Path(truth) if truth is not None else out.parent / f"{out.name}.truth"
    _check_folders(out, truth, overwrite)

    run = _Run(out, truth)
    try:
        taken = Taken()
        for cohort in years:
            pop = draw_cohort(seed, cohort, graduates, taken)
            taken.add(pop)
            run.register(pop)
            answered = {wave: run.survey_wave(seed, pop, wave) for wave in WAVES}
            spells_truth = [run.admin(seed, pop, code, source) for code, source in admin_mod.SOURCES.items()]
            gt = graduate_truth(pop)
            for wave in WAVES:
                gt[f"responded_{wave}"] = choose(answered[wave], "true", "false")
            run.truth_part("graduates.csv", [gt])
            run.truth_part("responses.csv", run.responses)
            run.truth_part("spells.csv", spells_truth)
            run.responses.clear()
        run.counts["context"] = run.emit(
            "context/eurostat_unemployment.csv", _context_columns(years), UTF8_BOM
        )
        run.writer.write_text(truth / "README.md", TRUTH_README)
    finally:
        run.writer.close()

    return SampleSummary(
        landing=out,
        truth=truth,
        cohorts=years,
        files=len(run.written),
        register_rows=run.counts["register"],
        survey_rows=run.counts["survey"],
        admin_rows=run.counts["admin"],
        context_rows=run.counts["context"],
        written=tuple(run.written),
    )


class _Run:
    """One generation: writes landing files one school/wave/source at a time, truth one cohort at a time."""

    def __init__(self, out: Path, truth: Path) -> None:
        self.out = out
        self.truth = truth
        self.writer = CsvWriter()
        self.written: list[str] = []
        self.counts = {"register": 0, "survey": 0, "admin": 0, "context": 0}
        self.responses: list[dict[str, pa.Array]] = []

    def emit(self, rel: str, columns: dict[str, pa.Array], style: CsvStyle) -> int:
        rows = self.writer.write(self.out / rel, columns, style)
        self.written.append(rel)
        return rows

    def truth_part(self, name: str, parts: list[dict[str, pa.Array]]) -> None:
        """Append one cohort's truth (the truth of a million graduates need not sit in memory)."""
        cols = {k: pa.concat_arrays([p[k] for p in parts]) for k in parts[0]}
        self.writer.write(self.truth / name, cols, PLAIN_UTF8, append=True)

    def register(self, pop: Cohort) -> None:
        for s_i, school in enumerate(SCHOOLS):
            rows = np.flatnonzero(pop.school == s_i)
            if len(rows):
                style = school_style(school.country)
                cols = _register_columns(pop, s_i, rows, style.dates)
                self.counts["register"] += self.emit(f"register/{school.stem}_{pop.cohort}.csv", cols, style)

    def survey_wave(self, seed: int, pop: Cohort, wave: str) -> np.ndarray:
        """Write one wave's file per school; returns who has a final (complete) response."""
        resp = build_wave(seed, pop, wave)
        rng = stream(seed, "render", pop.cohort, wave)
        for s_i, school in enumerate(SCHOOLS):
            rel = f"surveys/{wave}/{school.stem}_{pop.cohort}.csv"
            if school.survey_tool == "limesurvey" and wave == LIMESURVEY6_WAVE:
                # LimeSurvey 6's default export (full question texts, full answers in Italian) with
                # the survey structure (.lss) and the school's short mapping beside it.
                ls_rows, ls_ids = limesurvey6.write_export(self.out, rel, resp, pop, s_i, "default", rng)
                rendered = Rendered({}, ls_rows, ls_ids)
                self.counts["survey"] += len(ls_rows)
                stem = rel.removesuffix(".csv")
                self.written += [rel, stem + ".lss", stem + ".yaml"]
            elif school.survey_tool == "limesurvey":
                rendered = render_limesurvey(resp, pop, s_i, rng)
                cols = {h: rendered.columns[h] for h in ls_header(wave)}
                self.counts["survey"] += self.emit(rel, cols, LIMESURVEY)
                yaml_rel = rel.removesuffix(".csv") + ".yaml"
                self.writer.write_text(self.out / yaml_rel, limesurvey_mapping(wave, school))
                self.written.append(yaml_rel)
            else:
                style = school_style(school.country)
                rendered = render_canonical(resp, pop, s_i, style.dates, rng)
                self.counts["survey"] += self.emit(rel, rendered.columns, style)
            g = resp.g[rendered.rows]
            k = len(g)
            role = resp.role[rendered.rows]
            self.responses.append(
                {
                    "wave": _const(wave, k),
                    "file": _const(rel, k),
                    "response_id": rendered.response_id,
                    "school_code": _const(school.code, k),
                    "student_id": pc.take(pop.student_id, pa.array(g)),
                    "cohort": _const(str(pop.cohort), k),
                    "role": from_codes(role, ROLES),
                    "is_complete": choose(role != 2, "true", "false"),
                }
            )
        answered = np.zeros(pop.n, dtype=bool)
        answered[resp.g[resp.role == 0]] = True
        return answered

    def admin(self, seed: int, pop: Cohort, country: str, source: str) -> dict[str, pa.Array]:
        """Write one source's extract for the cohort; returns the truth about its rows."""
        extracted = np.datetime64(f"{pop.cohort + 2}-03-01")
        spells = admin_mod.cohort_spells(seed, pop, country, extracted)
        rel = f"admin/{source}_{pop.cohort + 2}.csv"
        order, cols = _admin_columns(seed, pop, spells, country, source, extracted)
        self.counts["admin"] += self.emit(rel, cols, school_style(country))
        person = spells.person[order]
        k = len(order)
        inside = person >= 0
        who = np.where(inside, person, 0)
        empty = pa.scalar(None, pa.string())
        return {
            "file": _const(rel, k),
            "line": int_str(np.arange(k) + 2),
            "row_index": int_str(np.arange(k)),
            "school_code": choose(inside, from_codes(pop.school[who], [s.code for s in SCHOOLS]), empty),
            "student_id": choose(inside, pc.take(pop.student_id, pa.array(who)), empty),
            "cohort": choose(inside, _const(str(pop.cohort), k), empty),
            "episode": from_codes(spells.episode[order], admin_mod.EPISODES),
        }


def _check_folders(out: Path, truth: Path, overwrite: bool) -> None:
    out_r, truth_r = out.resolve(), truth.resolve()
    if truth_r == out_r or truth_r.is_relative_to(out_r) or out_r.is_relative_to(truth_r):
        raise ValueError(f"the truth folder {truth} must lie outside the landing folder {out}")
    busy = (out.exists() and any(out.iterdir())) or (truth.exists() and any(truth.iterdir()))
    if busy and not overwrite:
        raise FileExistsError(f"{out} or {truth} is not empty; pass overwrite=True to replace the sample")
    if busy:
        for name in LANDING_FOLDERS:
            shutil.rmtree(out / name, ignore_errors=True)
        shutil.rmtree(truth, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    truth.mkdir(parents=True, exist_ok=True)


def _const(value: str, n: int) -> pa.Array:
    """The same string n times."""
    return pc.take(pa.array([value], pa.string()), pa.array(np.zeros(n, dtype=np.int32)))


def _register_columns(pop: Cohort, s_i: int, rows: np.ndarray, dates: str) -> dict[str, pa.Array]:
    """One school's register, sorted by student id as school systems export it."""
    school = SCHOOLS[s_i]
    ids = pc.take(pop.student_id, pa.array(rows))
    rows = rows[np.asarray(pc.sort_indices(ids))]
    take = pa.array(rows)
    k = len(rows)
    qual = pop.qual[rows]
    cols: dict[str, pa.Array] = {}
    for name in REGISTER.names:
        if name == "student_id":
            cols[name] = pc.take(pop.student_id, take)
        elif name == "school_code":
            cols[name] = _const(school.code, k)
        elif name == "school_name":
            cols[name] = _const(school.name, k)
        elif name == "country":
            cols[name] = _const(school.country, k)
        elif name == "region":
            cols[name] = _const(school.region, k)
        elif name == "national_id":
            cols[name] = pc.take(register_national_id(pop), take)
        elif name in ("first_name", "last_name", "email", "phone"):
            cols[name] = pc.take(getattr(pop, name), take)
        elif name == "birth_date":
            cols[name] = format_dates(pop.birth[rows], dates)
        elif name == "sex":
            cols[name] = from_codes(pop.sex[rows], CODEBOOK["sex"])
        elif name == "qualification_code":
            cols[name] = from_codes(qual, [q.code for q in QUALS])
        elif name == "qualification_name":
            cols[name] = from_codes(qual, [q.name for q in QUALS])
        elif name == "eqf_level":
            cols[name] = int_str(QUAL_EQF[qual])
        elif name == "professional_family":
            cols[name] = from_codes(qual, [q.family for q in QUALS])
        elif name == "sector_group":
            cols[name] = from_codes(qual, [q.sector for q in QUALS])
        elif name == "cohort":
            cols[name] = _const(str(pop.cohort), k)
        elif name == "graduation_date":
            cols[name] = format_dates(pop.graduation[rows], dates)
        elif name == "language":
            cols[name] = from_codes(pop.language[rows], CODEBOOK["language"])
        elif name == "token" and school.issues_tokens:
            cols[name] = pc.take(pop.token, take)
    return cols


def _admin_columns(
    seed: int, pop: Cohort, spells: admin_mod.Spells, country: str, source: str, extracted: np.datetime64
) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """One source's extract, sorted by national id and start date as registers deliver them."""
    order = np.asarray(
        pc.sort_indices(
            pa.table(
                {
                    "id": spells.national_id,
                    "start": pa.array(spells.start),
                    "i": pa.array(np.arange(spells.n)),
                }
            ),
            sort_keys=[("id", "ascending"), ("start", "ascending"), ("i", "ascending")],
        )
    )
    spanish = country == "ES"
    style = school_style(country)
    k = len(order)
    take = pa.array(order)
    pct = spells.part_time_pct[order]
    cols: dict[str, pa.Array] = {}
    spec = ES_TGSS if spanish else ADMIN
    for name in spec.names:
        if name == "national_id":
            cols[name] = pc.take(spells.national_id, take)
        elif name == "employer_id":  # the self-employed are their own employer: no employer id
            self_emp = spells.contract[order] == admin_mod.ADMIN_CONTRACT["self_employed"]
            employer = pc.take(spells.employers, pa.array(spells.employer[order]))
            cols[name] = choose(self_emp, pa.scalar(None, pa.string()), employer)
        elif name == "spell_start":
            cols[name] = format_dates(spells.start[order], style.dates)
        elif name == "spell_end":
            cols[name] = format_dates(spells.end[order], style.dates)
        elif name == "contract_key":
            keys = admin_mod.sepe_keys(stream(seed, "sepe", pop.cohort), spells)[order]
            cols[name] = choose(keys > 0, int_str(keys), pa.scalar(None, pa.string()))
        elif name == "regime":
            self_emp = spells.contract[order] == admin_mod.ADMIN_CONTRACT["self_employed"]
            cols[name] = choose(self_emp, "RETA", "RG")
        elif name == "contract_type":
            cols[name] = from_codes(spells.contract[order], CODEBOOK["admin_contract_type"])
        elif name == "part_time_pct":
            if country == "EE":  # the Estonian register states the workload, 100 for full time
                pct = np.where(np.isnan(pct), 100.0, pct)
            cols[name] = format_decimal(pct, 1, style.decimal)
        elif name == "nace_section":
            cols[name] = from_codes(spells.nace[order], CODEBOOK["nace_section"])
        elif name == "monthly_earnings":
            cols[name] = format_decimal(spells.earnings[order], 2, style.decimal)
        elif name == "source":
            cols[name] = _const(source, k)
        elif name == "extracted_on":
            cols[name] = format_dates(np.full(k, extracted), style.dates)
    return order, cols


def _context_columns(years: tuple[int, ...]) -> dict[str, pa.Array]:
    """Eurostat unemployment for each cohort year and the two following (the tracking window)."""
    span = range(min(years), max(years) + 3)
    regions = ("ES12", "ES", "EE00", "EE", "ITC4", "IT", "NL11", "NL")
    indicators = sorted({ind for _, ind in UNEMPLOYMENT})
    rows = [(r, y, i) for r in regions for i in indicators for y in span]
    values = np.array([unemployment_rate(r, i, y) for r, y, i in rows])
    cols = {
        "region": pa.array([r for r, _, _ in rows], pa.string()),
        "year": pa.array([str(y) for _, y, _ in rows], pa.string()),
        "indicator": pa.array([i for _, _, i in rows], pa.string()),
        "value": format_decimal(values, 1, "."),
        "source": pa.array([CONTEXT_SOURCE] * len(rows), pa.string()),
    }
    assert list(cols) == list(CONTEXT.names)
    return cols


TRUTH_README = """\
# Ground truth of the sample

Written by `ingestion.sample.generate` next to (never inside) the landing folder. The pipeline never
reads these files; tests and evaluations do, to check linkage, de-duplication and status estimates.
All files are UTF-8 without BOM, comma-delimited, ISO dates. They hold synthetic personal data only.

## graduates.csv: one row per graduate of the register

- `school_code`, `student_id`, `cohort`: the graduate, as in `register/`.
- `sector_group`: industry or services.
- `plan_after_graduation`: the plan held before graduating (what a pre-graduation response says).
- `status_m6`, `status_m18`: the true situation 6 and 18 months after graduation, for respondents and
  non-respondents alike.
- `contract_type_m6`, `contract_type_m18`: the true contract of wage earners; `no_contract` is an
  informal job, which leaves no admin spell.
- `same_job_m6_m18`: the m6 job continues at m18 (same employer in the admin data).
- `works_abroad`: employed abroad; no domestic admin spell.
- `has_national_id`: the register holds the national id (false for ~4 %, whose spells cannot be linked).
- `national_id`: the graduate's real national id, also when the register lacks it.
- `responded_pre_graduation`, `responded_m6`, `responded_m18`: a complete, final response exists.

## responses.csv: one row per survey response in `surveys/`

- `wave`, `file`: the wave and the landing file (relative to the landing folder).
- `response_id`: the response's id in that file (`id` in the LimeSurvey exports).
- `school_code`, `student_id`, `cohort`: the graduate the response truly belongs to, whatever the
  respondent typed.
- `role`: `final` (the response that counts), `superseded_duplicate` (an earlier complete submission
  of the same graduate; the later one wins), `unfinished` (started, never submitted).
- `is_complete`: `submitted_at` is set.

## spells.csv: one row per spell in `admin/`

- `file`: the admin file (relative to the landing folder).
- `line`: physical line of the spell in that file (header = line 1), as `_source_line`.
- `row_index`: 0-based data row.
- `school_code`, `student_id`, `cohort`: the graduate the spell belongs to; empty for people outside
  the register.
- `episode`: why the spell exists: `job_m6`, `job_m6_converted` (same employer, new contract),
  `job_m18`, `past_job_m6` / `past_job_m18` (unemployed who had a job since graduating),
  `pre_graduation_job`, `student_job`, `previous_temporary`, `outsider`.

## Departures from a clean world, on purpose

- ~10 % of responses lack the student id; ~5 % have a typo or dropped accents in names; some e-mails
  come in another case or are another address; ~2 % of birth dates have day and month swapped (only
  where that still is a valid date). A response without student id has at most one such error.
- ~2 % of respondents submitted twice (`superseded_duplicate`); 5-15 % of responses are unfinished.
- Admin data: informal jobs, jobs abroad and some self-employment leave no spell; students' small
  jobs do; ~5 % of contracts are recorded as another type; ~3 % of spells lack earnings.
- Admin extracts (one per source and cohort, taken on 1 March two years after graduation) hold people
  who are not graduates (`outsider`) and graduates whose register row has no national id.
"""
