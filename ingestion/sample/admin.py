"""Administrative employment spells (social security / tax register) observed from the true trajectories.

Spells agree with the truth most of the time and disagree the way real registers do: informal jobs and
jobs abroad leave no spell, some self-employed sit outside the source, a short student job shows up
while the survey says "studying", contract types are sometimes recorded differently, and the extract
covers everybody the register holds (non-respondents, graduates without national_id in the school's
register) plus people who are not graduates at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.contract import CODEBOOK
from ingestion.sample import ids
from ingestion.sample.population import (
    COUNTRIES,
    EMPLOYED,
    FIRST_NAMES,
    QUALS,
    ST,
    SURNAMES,
    WAGE,
    Cohort,
    code_index,
    pick,
    stream,
    zipf_weights,
)
from ingestion.sample.text import int_str, join

SOURCES = {"ES": "es_tgss", "EE": "ee_emta", "IT": "it_inps"}  # NL: no admin coverage
SELF_EMPLOYED_COVERED = {"ES": 0.9, "EE": 0.6, "IT": 0.7}
PRE_GRADUATION_JOB = {"ES": 0.22, "EE": 0.35, "IT": 0.28}
OUTSIDER_SHARE = 0.25  # spells of non-graduates per graduate spell
CONTRACT_MISRECORDED = 0.05
NACE = CODEBOOK["nace_section"]
ADMIN_CONTRACT = code_index("admin_contract_type")
SURVEY_CONTRACT = code_index("contract_type")
COMMON_NACE = {
    "G": 0.22,
    "I": 0.20,
    "N": 0.15,
    "C": 0.12,
    "H": 0.08,
    "Q": 0.08,
    "F": 0.07,
    "M": 0.04,
    "S": 0.04,
}
PART_TIME_PCTS = np.array([25.0, 37.5, 50.0, 50.0, 62.5, 75.0, 80.0])
NET_BANDS = np.array([[550, 999], [1000, 1499], [1500, 1999], [2000, 2800], [900, 1800]], dtype=float)

EPISODES = (
    "job_m6",
    "job_m6_converted",
    "job_m18",
    "past_job_m6",
    "past_job_m18",
    "pre_graduation_job",
    "student_job",
    "previous_temporary",
    "outsider",
)


@dataclass
class Spells:
    """Spells of one country and cohort (one row per spell, not yet sorted)."""

    person: np.ndarray  # graduate index, -1 for people outside the register
    national_id: pa.Array
    start: np.ndarray  # datetime64[D]
    end: np.ndarray  # datetime64[D], NaT = ongoing at extraction
    contract: np.ndarray  # index into CODEBOOK["admin_contract_type"]
    part_time_pct: np.ndarray  # NaN = full time
    nace: np.ndarray  # index into NACE
    earnings: np.ndarray  # gross EUR per month, NaN = not in the source
    employer: np.ndarray  # index into the country's employer pool
    converted: np.ndarray  # bool: a temporary contract turned permanent (SEPE key 189)
    seasonal: np.ndarray  # bool: permanent seasonal (fijo discontinuo)
    episode: np.ndarray  # index into EPISODES
    employers: pa.Array | None = None  # identifiers of the employer pool that `employer` indexes

    @property
    def n(self) -> int:
        return len(self.person)


def _days(rng: np.random.Generator, lo: np.ndarray | int, hi: np.ndarray | int, n: int) -> np.ndarray:
    lo_a = np.broadcast_to(np.asarray(lo, dtype=np.int64), (n,))
    hi_a = np.maximum(np.broadcast_to(np.asarray(hi, dtype=np.int64), (n,)), lo_a + 1)
    return (lo_a + np.floor(rng.random(n) * (hi_a - lo_a)).astype(np.int64)).astype("timedelta64[D]")


def _nace_for(
    rng: np.random.Generator, qual: np.ndarray, related: np.ndarray, temp_agency: np.ndarray
) -> np.ndarray:
    """The employer's sector: the qualification's usual sectors when the job is related."""
    n = len(qual)
    letters = [q.nace for q in QUALS]
    width = max(len(s) for s in letters)
    table = np.array([[NACE.index(s[min(j, len(s) - 1)]) for j in range(width)] for s in letters])
    counts = np.array([len(s) for s in letters])
    own = table[qual, np.floor(rng.random(n) * counts[qual]).astype(np.int64)]
    common = np.array([NACE.index(k) for k in COMMON_NACE])
    other = common[pick(rng, np.tile(list(COMMON_NACE.values()), (n, 1)))]
    out = np.where(related, own, other)
    return np.where(temp_agency, NACE.index("N"), out)


def _earnings(rng: np.random.Generator, band: np.ndarray, part_pct: np.ndarray) -> np.ndarray:
    """Gross monthly earnings consistent with the net wage band the graduate reports."""
    n = len(band)
    b = np.where(band < 0, 4, band)
    lo, hi = NET_BANDS[b, 0], NET_BANDS[b, 1]
    net = lo + rng.random(n) * (hi - lo)
    net = np.where(np.isnan(part_pct), net, np.minimum(net, 400 + 8 * np.nan_to_num(part_pct)))
    return np.round(net * rng.uniform(1.2, 1.32, n), 2)


def cohort_spells(seed: int, pop: Cohort, country_code: str, extracted_on: np.datetime64) -> Spells:
    """All spells of one country's extract for one cohort, graduates' and outsiders'."""
    rng = stream(seed, "admin", pop.cohort, country_code)
    c = COUNTRIES.index(country_code)
    covered = np.flatnonzero(pop.country == c)
    n = len(covered)
    grad = pop.graduation[covered]
    ref6 = grad + np.timedelta64(183, "D")
    ref18 = grad + np.timedelta64(548, "D")
    s6 = pop.status["m6"][covered]
    s18 = pop.status["m18"][covered]
    j6 = {k: v[covered] for k, v in pop.job["m6"].items()}
    j18 = {k: v[covered] for k, v in pop.job["m18"].items()}
    same = pop.same_job[covered]
    abroad = pop.abroad[covered]
    qual = pop.qual[covered]
    informal6 = j6["contract_type"] == SURVEY_CONTRACT["no_contract"]
    informal18 = j18["contract_type"] == SURVEY_CONTRACT["no_contract"]
    self_cov = rng.random(n) < SELF_EMPLOYED_COVERED[country_code]
    pool = max(30, n // 4)
    employer_p = zipf_weights(pool)

    parts: list[dict[str, np.ndarray]] = []

    def add(rows: np.ndarray, start: np.ndarray, end: np.ndarray, episode: str, **attrs: np.ndarray) -> None:
        k = len(rows)
        spell = {
            "person": covered[rows],
            "start": start,
            "end": end,
            "episode": np.full(k, EPISODES.index(episode)),
            "contract": attrs.get("contract", np.full(k, ADMIN_CONTRACT["temporary"])),
            "part_time_pct": attrs.get("part_time_pct", np.full(k, np.nan)),
            "nace": attrs.get("nace", np.full(k, NACE.index("G"))),
            "earnings": attrs.get("earnings", np.full(k, np.nan)),
            "employer": attrs.get("employer", rng.choice(pool, size=k, p=employer_p)),
            "converted": attrs.get("converted", np.zeros(k, dtype=bool)),
        }
        parts.append(spell)

    def job_attrs(rows: np.ndarray, j: dict[str, np.ndarray], status: np.ndarray) -> dict[str, np.ndarray]:
        k = len(rows)
        self_emp = status[rows] == ST["self_employed"]
        ct = j["contract_type"][rows]
        contract = np.select(
            [self_emp, ct == SURVEY_CONTRACT["permanent"], ct == SURVEY_CONTRACT["apprenticeship"]],
            [ADMIN_CONTRACT["self_employed"], ADMIN_CONTRACT["permanent"], ADMIN_CONTRACT["apprenticeship"]],
            ADMIN_CONTRACT["temporary"],
        )
        flip = ~self_emp & (rng.random(k) < CONTRACT_MISRECORDED)
        contract = np.where(
            flip & (contract == ADMIN_CONTRACT["permanent"]), ADMIN_CONTRACT["temporary"], contract
        )
        contract = np.where(
            flip & (contract == ADMIN_CONTRACT["temporary"]) & (rng.random(k) < 0.5),
            ADMIN_CONTRACT["permanent"],
            contract,
        )
        part = (j["working_time"][rows] == 1) & ~self_emp  # the self-employed have no part-time rate
        pct = np.where(part, PART_TIME_PCTS[rng.integers(0, len(PART_TIME_PCTS), k)], np.nan)
        related = j["job_related_to_qualification"][rows] <= 1
        agency = j["job_found_via"][rows] == code_index("job_found_via")["temp_agency"]
        return {
            "contract": contract,
            "part_time_pct": pct,
            "nace": _nace_for(rng, qual[rows], related, agency),
            "earnings": _earnings(rng, j["monthly_net_wage_band"][rows], pct),
        }

    def small_job(rows: np.ndarray, part_share: float, apprentice_share: float) -> dict[str, np.ndarray]:
        k = len(rows)
        part = rng.random(k) < part_share
        pct = np.where(part, PART_TIME_PCTS[rng.integers(0, 4, k)], np.nan)
        contract = np.where(
            rng.random(k) < apprentice_share, ADMIN_CONTRACT["apprenticeship"], ADMIN_CONTRACT["temporary"]
        )
        return {
            "contract": contract,
            "part_time_pct": pct,
            "nace": _nace_for(rng, qual[rows], rng.random(k) < 0.5, np.zeros(k, dtype=bool)),
            "earnings": _earnings(rng, np.zeros(k, dtype=np.int64), pct),
        }

    def observed(status: np.ndarray, informal: np.ndarray) -> np.ndarray:
        wage = np.isin(status, WAGE) & ~informal
        self_emp = (status == ST["self_employed"]) & self_cov
        return (wage | self_emp) & ~abroad

    # The job held at m6 (A), possibly continuing to m18 and then maybe converted.
    has_a = observed(s6, informal6)
    a = np.flatnonzero(has_a)
    mtfj = j6["months_to_first_job"][a]
    lo = np.select([mtfj == 0, mtfj == 1], [-25, 30], 90)
    hi = np.select([mtfj == 0, mtfj == 1], [30, 90], 175)
    a_start = grad[a] + _days(rng, lo, hi, len(a))
    cont = same[a]
    a_end = np.where(
        cont,
        ref18[a] + _days(rng, 30, 500, len(a)),
        ref6[a] + _days(rng, 10, (ref18[a] - ref6[a]).astype(np.int64) - 60, len(a)),
    )
    employer_a = rng.choice(pool, size=len(a), p=employer_p)
    attrs6 = job_attrs(a, j6, s6)
    changed = (
        cont
        & np.isin(s6[a], WAGE)
        & (
            (j18["contract_type"][a] != j6["contract_type"][a])
            | (j18["working_time"][a] != j6["working_time"][a])
        )
    )
    conv = ref6[a] + _days(rng, 20, (ref18[a] - ref6[a]).astype(np.int64) - 20, len(a))
    a_end_first = np.where(changed, conv - np.timedelta64(1, "D"), a_end)
    add(a, a_start, a_end_first, "job_m6", employer=employer_a, **attrs6)
    ch = np.flatnonzero(changed)
    attrs18 = job_attrs(a[ch], j18, s18)
    attrs18["nace"] = attrs6["nace"][ch]
    became_permanent = (j18["contract_type"][a[ch]] == SURVEY_CONTRACT["permanent"]) & (
        j6["contract_type"][a[ch]] != SURVEY_CONTRACT["permanent"]
    )
    add(
        a[ch],
        conv[ch],
        a_end[ch],
        "job_m6_converted",
        employer=employer_a[ch],
        converted=became_permanent,
        **attrs18,
    )

    # An informal job at m6 that is declared later: the spell starts at the conversion.
    late_formal = np.flatnonzero(same & informal6 & ~informal18 & np.isin(s18, WAGE) & ~abroad)
    start = ref6[late_formal] + _days(rng, 20, 300, len(late_formal))
    add(
        late_formal,
        start,
        ref18[late_formal] + _days(rng, 30, 500, len(late_formal)),
        "job_m6_converted",
        **job_attrs(late_formal, j18, s18),
    )

    # A different job at m18 (B), after the m6 job ended.
    has_b = observed(s18, informal18) & ~same
    b = np.flatnonzero(has_b)
    a_end_by_person = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    a_end_by_person[a] = a_end
    earliest = np.where(np.isnat(a_end_by_person[b]), ref6[b], np.maximum(ref6[b], a_end_by_person[b]))
    b_start = earliest + _days(rng, 1, (ref18[b] - earliest).astype(np.int64) - 5, len(b))
    add(b, b_start, ref18[b] + _days(rng, 20, 500, len(b)), "job_m18", **job_attrs(b, j18, s18))

    # Unemployed but had a job since graduation: a spell that ended before the reference date.
    yes = 0
    had6 = (s6 == ST["unemployed"]) & (j6["had_job_since_graduation"] == yes) & ~abroad
    c6 = np.flatnonzero(had6 & (rng.random(n) < 0.92))
    st = grad[c6] + _days(rng, -10, 113, len(c6))
    add(c6, st, st + _days(rng, 14, 60, len(c6)), "past_job_m6", **small_job(c6, 0.4, 0.1))
    had18 = (s18 == ST["unemployed"]) & (j18["had_job_since_graduation"] == yes) & ~np.isin(s6, EMPLOYED)
    d = np.flatnonzero(had18 & ~had6 & ~abroad & (rng.random(n) < 0.92))
    st = ref6[d] + _days(rng, 5, 275, len(d))
    add(d, st, st + _days(rng, 14, 80, len(d)), "past_job_m18", **small_job(d, 0.4, 0.05))

    # Jobs before graduation (summer jobs, dual-training contracts), some before the m6 job.
    e = np.flatnonzero(rng.random(n) < PRE_GRADUATION_JOB[country_code])
    st = grad[e] - _days(rng, 60, 500, len(e))
    add(
        e,
        st,
        np.minimum(st + _days(rng, 10, 90, len(e)), grad[e] - np.timedelta64(1, "D")),
        "pre_graduation_job",
        **small_job(e, 0.5, 0.3),
    )
    prev = np.flatnonzero(
        (j6["contract_type"][a] == SURVEY_CONTRACT["temporary"])
        & (a_start - grad[a] > np.timedelta64(40, "D"))
        & (rng.random(len(a)) < 0.35)
    )
    end = a_start[prev] - _days(rng, 3, 20, len(prev))
    add(
        a[prev], end - _days(rng, 7, 45, len(prev)), end, "previous_temporary", **small_job(a[prev], 0.3, 0.0)
    )

    # Students with a small job: the register says working, the survey says studying.
    studying = (s6 == ST["further_studies"]) | (s18 == ST["further_studies"])
    f = np.flatnonzero(studying & (rng.random(n) < 0.10))
    st = grad[f] + _days(rng, 10, 450, len(f))
    attrs = small_job(f, 1.0, 0.0)
    add(f, st, st + _days(rng, 10, 90, len(f)), "student_job", **attrs)

    spells = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    national_id = pc.take(pop.national_id, pa.array(spells["person"]))
    person = spells["person"]
    outsiders = _outsiders(rng, pop, country_code, int(len(person) * OUTSIDER_SHARE), pool, extracted_on)

    out = Spells(
        person=np.concatenate([person, outsiders.person]),
        national_id=pa.concat_arrays([national_id, outsiders.national_id]),
        start=np.concatenate([spells["start"], outsiders.start]).astype("datetime64[D]"),
        end=np.concatenate([spells["end"], outsiders.end]).astype("datetime64[D]"),
        contract=np.concatenate([spells["contract"], outsiders.contract]),
        part_time_pct=np.concatenate([spells["part_time_pct"], outsiders.part_time_pct]),
        nace=np.concatenate([spells["nace"], outsiders.nace]),
        earnings=np.concatenate([spells["earnings"], outsiders.earnings]),
        employer=np.concatenate([spells["employer"], outsiders.employer]),
        converted=np.concatenate([spells["converted"], outsiders.converted]),
        seasonal=np.zeros(0, dtype=bool),
        episode=np.concatenate([spells["episode"], outsiders.episode]),
    )
    # Hospitality keeps seasonal staff as permanent "fijos discontinuos".
    out.seasonal = (
        (out.contract == ADMIN_CONTRACT["permanent"])
        & (out.nace == NACE.index("I"))
        & (rng.random(out.n) < 0.4)
    )
    # The extract: what started before the extraction date; later ends are still ongoing.
    keep = out.start <= extracted_on
    out.end = np.where(out.end > extracted_on, np.datetime64("NaT"), out.end)
    out.earnings = np.where(rng.random(out.n) < 0.03, np.nan, out.earnings)
    out = _filter(out, keep)
    out.employers = employer_ids(rng, country_code, pool)
    return out


def _filter(s: Spells, keep: np.ndarray) -> Spells:
    rows = np.flatnonzero(keep)
    return Spells(
        person=s.person[rows],
        national_id=pc.take(s.national_id, pa.array(rows)),
        start=s.start[rows],
        end=s.end[rows],
        contract=s.contract[rows],
        part_time_pct=s.part_time_pct[rows],
        nace=s.nace[rows],
        earnings=s.earnings[rows],
        employer=s.employer[rows],
        converted=s.converted[rows],
        seasonal=s.seasonal[rows] if len(s.seasonal) else np.zeros(len(rows), dtype=bool),
        episode=s.episode[rows],
    )


def _outsiders(
    rng: np.random.Generator,
    pop: Cohort,
    country_code: str,
    count: int,
    pool: int,
    extracted_on: np.datetime64,
) -> Spells:
    """Spells of people who are not in the register: the source holds the whole population."""
    # Other workers never share an identifier with a graduate: lower DNI numbers, `X` NIEs, and
    # (for the codes that embed the birth date) births before any graduate's.
    people = max(1, count * 2 // 3)
    birth = np.datetime64("1950-01-01") + rng.integers(0, 10_950, people).astype("timedelta64[D]")
    if country_code == "ES":
        nid = ids.spanish_ids(rng, ids.dni_numbers(rng, people, 5_000_000, 40_000_000), 0.08, "X")
    elif country_code == "EE":
        nid = ids.isikukood(rng, birth, rng.random(people) < 0.5)
    else:
        nid = ids.codice_fiscale(
            rng,
            FIRST_NAMES,
            SURNAMES,
            rng.integers(0, len(FIRST_NAMES), people),
            rng.integers(0, len(SURNAMES), people),
            birth,
            rng.random(people) < 0.5,
        )
    clash = np.asarray(pc.is_in(nid, value_set=pop.national_id).to_numpy(zero_copy_only=False))
    who = rng.integers(0, people, count)
    who = who[~clash[who]]
    k = len(who)
    first = np.datetime64(f"{pop.cohort - 1}-01-01")
    start = first + rng.integers(0, int((extracted_on - first).astype(np.int64)), k).astype("timedelta64[D]")
    end = start + rng.integers(15, 700, k).astype("timedelta64[D]")
    end = np.where(rng.random(k) < 0.3, np.datetime64("NaT"), end)
    contract = pick(rng, np.tile((0.25, 0.60, 0.08, 0.07), (k, 1))).astype(np.int64)
    part = rng.random(k) < 0.3
    pct = np.where(part, PART_TIME_PCTS[rng.integers(0, len(PART_TIME_PCTS), k)], np.nan)
    nace = np.array([NACE.index(x) for x in COMMON_NACE])[
        pick(rng, np.tile(list(COMMON_NACE.values()), (k, 1)))
    ]
    pct = np.where(contract == ADMIN_CONTRACT["self_employed"], np.nan, pct)
    return Spells(
        person=np.full(k, -1),
        national_id=pc.take(nid, pa.array(who)),
        start=start,
        end=end,
        contract=contract,
        part_time_pct=pct,
        nace=nace,
        earnings=_earnings(rng, rng.integers(0, 4, k), pct),
        employer=rng.choice(pool, size=k, p=zipf_weights(pool)),
        converted=np.zeros(k, dtype=bool),
        seasonal=np.zeros(k, dtype=bool),
        episode=np.full(k, EPISODES.index("outsider")),
    )


def employer_ids(rng: np.random.Generator, country_code: str, pool: int) -> pa.Array:
    """The employer identifiers of a source: Spanish CCC, Estonian registry code, Italian VAT number."""
    if country_code == "ES":
        body = 33_0000000 + rng.choice(10_000_000, size=pool, replace=False)
        return join(int_str(body, 9), int_str(body % 97, 2))
    if country_code == "EE":
        return int_str(10_000_000 + rng.choice(5_000_000, size=pool, replace=False), 8)
    return int_str(rng.choice(10_000_000_000, size=pool, replace=False), 11)


# SEPE contract keys: (key, weight) by kind of contract.
SEPE_KEYS = {
    "permanent_full": ((100, 0.55), (189, 0.0), (150, 0.2), (109, 0.15), (130, 0.1)),
    "permanent_part": ((200, 0.55), (289, 0.1), (250, 0.2), (209, 0.1), (230, 0.05)),
    "seasonal": ((300, 0.75), (309, 0.1), (389, 0.15)),
    "temporary_full": ((401, 0.40), (402, 0.38), (410, 0.12), (450, 0.10)),
    "temporary_part": ((501, 0.40), (502, 0.38), (510, 0.12), (550, 0.10)),
    "apprenticeship_full": ((421, 0.6), (420, 0.4)),
    "apprenticeship_part": ((520, 0.7), (521, 0.3)),
}


def sepe_keys(rng: np.random.Generator, s: Spells) -> np.ndarray:
    """The 3-digit SEPE contract key of each spell (0 for self-employment, which has none)."""
    part = ~np.isnan(s.part_time_pct)
    permanent = s.contract == ADMIN_CONTRACT["permanent"]
    apprentice = s.contract == ADMIN_CONTRACT["apprenticeship"]
    kind = np.select(
        [
            s.contract == ADMIN_CONTRACT["self_employed"],
            permanent & s.seasonal,
            permanent & ~part,
            permanent & part,
            apprentice & ~part,
            apprentice & part,
            part,
        ],
        [-1, 2, 0, 1, 5, 6, 4],
        3,
    )
    keys = np.zeros(s.n, dtype=np.int64)
    for k, name in enumerate(SEPE_KEYS):
        rows = np.flatnonzero(kind == k)
        options = SEPE_KEYS[name]
        codes = np.array([o[0] for o in options])
        w = np.array([o[1] for o in options])
        keys[rows] = codes[pick(rng, np.tile(w / w.sum(), (len(rows), 1)))]
    keys[s.converted & (kind == 0)] = 189
    keys[s.converted & (kind == 1)] = 289
    return keys
