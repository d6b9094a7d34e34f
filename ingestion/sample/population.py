"""The synthetic population: graduates, their identities and their true trajectories.

Truth is drawn first, for every graduate, and the landing files are observations of it (a survey answer,
an admin spell, or nothing). That is what makes non-response bias, informal work and admin/survey
disagreement come out of the same people, as in real tracking data.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.contract import CODEBOOK, LANGUAGES
from ingestion.sample import ids
from ingestion.sample.names import BY_COUNTRY
from ingestion.sample.schools import SCHOOLS
from ingestion.sample.text import choose, from_codes, int_str, join, null_if, slugs_table

COUNTRIES: tuple[str, ...] = ("ES", "EE", "IT", "NL")


def stream(seed: int, *names: object) -> np.random.Generator:
    """An independent random stream per component, so that one component's draws never shift another's."""
    key = zlib.crc32("/".join(str(n) for n in names).encode())
    return np.random.default_rng([seed, key])


def code_index(item: str) -> dict[str, int]:
    """Codebook position of each code of an item (answers are held as these small integers)."""
    return {c: i for i, c in enumerate(CODEBOOK[item])}


ST = code_index("current_status")
PLAN = code_index("plan_after_graduation")
EMPLOYED = np.array([ST["work"], ST["work_and_study"], ST["self_employed"]])
WAGE = np.array([ST["work"], ST["work_and_study"]])
STUDYING = np.array([ST["further_studies"], ST["work_and_study"]])

# ---- flattened lookup tables -------------------------------------------------------------------
QUALS = [q for s in SCHOOLS for q in s.qualifications]
QUAL_SCHOOL = np.array([i for i, s in enumerate(SCHOOLS) for _ in s.qualifications])
QUAL_INDUSTRY = np.array([q.sector == "industry" for q in QUALS])
QUAL_FEMALE = np.array([q.female_share for q in QUALS])
QUAL_EQF = np.array([q.eqf_level for q in QUALS])
QUAL_INTERNATIONAL = np.array([q.international for q in QUALS])
SCHOOL_COUNTRY = np.array([COUNTRIES.index(s.country) for s in SCHOOLS])
SCHOOL_TOKENS = np.array([s.issues_tokens for s in SCHOOLS])

FIRST_NAMES: tuple[str, ...] = ()
SURNAMES: tuple[str, ...] = ()
_FIRST_RANGES: dict[tuple[int, int], tuple[int, int]] = {}  # (country, female?) -> [start, stop)
_SURNAME_RANGES: dict[int, tuple[int, int]] = {}
for _c, _code in enumerate(COUNTRIES):
    _names = BY_COUNTRY[_code]
    for _female, _list in ((1, _names.female), (0, _names.male)):
        _FIRST_RANGES[(_c, _female)] = (len(FIRST_NAMES), len(FIRST_NAMES) + len(_list))
        FIRST_NAMES += _list
    _SURNAME_RANGES[_c] = (len(SURNAMES), len(SURNAMES) + len(_names.surnames))
    SURNAMES += _names.surnames
FIRST_SLUGS = slugs_table(FIRST_NAMES)
SURNAME_SLUGS = slugs_table(SURNAMES)

# ---- behavioural parameters (TRACKTION Asturias figures where the protocol gives them) ------------
# m6 status shares per country (further, work&study, work, self, volunteering, unemployed, inactive).
M6_TARGET = {
    "ES": (0.29, 0.14, 0.39, 0.012, 0.006, 0.15, 0.012),
    "EE": (0.22, 0.15, 0.46, 0.03, 0.01, 0.10, 0.03),
    "IT": (0.25, 0.06, 0.42, 0.02, 0.02, 0.19, 0.04),
    "NL": (0.26, 0.18, 0.44, 0.02, 0.01, 0.07, 0.02),
}
SECTOR_SHIFT = {True: 0.05, False: -0.04}  # industry graduates work more and study less
# Plans before graduation (further, work&study, work, self, volunteering, undecided) by sector.
PLAN_DIST = {True: (0.24, 0.11, 0.44, 0.02, 0.005, 0.185), False: (0.34, 0.13, 0.30, 0.02, 0.005, 0.205)}
PLAN_FOLLOW = 0.55  # weight of "does what they planned" in P(m6 status | plan)
# m6 -> m18 transitions, rows and columns in status order: more work, fewer unemployed after a year.
TRANSITION = np.array(
    [
        [0.50, 0.15, 0.25, 0.01, 0.005, 0.07, 0.015],
        [0.12, 0.35, 0.45, 0.02, 0.0, 0.05, 0.01],
        [0.04, 0.05, 0.80, 0.02, 0.005, 0.075, 0.01],
        [0.02, 0.03, 0.15, 0.75, 0.0, 0.05, 0.0],
        [0.20, 0.05, 0.30, 0.0, 0.25, 0.15, 0.05],
        [0.12, 0.05, 0.45, 0.03, 0.01, 0.29, 0.05],
        [0.15, 0.05, 0.25, 0.0, 0.02, 0.15, 0.38],
    ]
)
# Job quality by sector (index 1 = industry, 0 = services), Asturias table 6.2.
RELATED = {1: (0.72, 0.14, 0.14), 0: (0.48, 0.18, 0.34)}  # yes, partly, no
CONTRACT_M6 = {1: (0.08, 0.72, 0.14, 0.06), 0: (0.14, 0.64, 0.12, 0.10)}
CONTRACT_M18 = {1: (0.20, 0.66, 0.10, 0.04), 0: (0.24, 0.60, 0.06, 0.10)}
PART_TIME_M6 = {1: 0.06, 0: 0.57}
PART_TIME_M18 = {1: 0.05, 0: 0.45}
WAGE_PART_TIME = (0.93, 0.04, 0.0, 0.0, 0.03)
WAGE_FULL_TIME_M6 = {1: (0.38, 0.40, 0.15, 0.04, 0.03), 0: (0.58, 0.30, 0.07, 0.02, 0.03)}
WAGE_FULL_TIME_M18 = {1: (0.25, 0.45, 0.20, 0.07, 0.03), 0: (0.45, 0.36, 0.12, 0.04, 0.03)}
WAGE_SELF = (0.50, 0.30, 0.10, 0.05, 0.05)
UNPAID = {1: 0.22, 0: 0.30}
SEEKING = {1: 0.28, 0: 0.17}
FOUND_VIA = {
    1: (0.30, 0.30, 0.10, 0.04, 0.08, 0.09, 0.07, 0.02),
    0: (0.30, 0.20, 0.10, 0.04, 0.15, 0.14, 0.04, 0.03),
}
FIRST_JOB_EARLY = (0.67, 0.20, 0.13, 0.0, 0.0)  # working at m6: 67 % within a month (Asturias)
FIRST_JOB_BEFORE_M6 = (0.30, 0.40, 0.30, 0.0, 0.0)
FIRST_JOB_LATE = (0.0, 0.0, 0.0, 0.60, 0.40)
STUDY_LEVEL = (0.63, 0.16, 0.21)  # vet, university, other
STUDY_RELATED = 0.67
HAD_JOB_M6 = 0.43
SAME_JOB = 0.65
ABROAD = {"ES": 0.03, "EE": 0.07, "IT": 0.02, "NL": 0.02}
NO_NATIONAL_ID = {"ES": 0.03, "EE": 0.03, "IT": 0.05, "NL": 0.06}
NIE_SHARE = 0.04
DNI_RANGE = (40_000_000, 80_000_000)  # graduates; other workers in the admin data get lower numbers
SEX_X = 0.004


@dataclass
class Cohort:
    """One cohort's graduates (arrays indexed by graduate) and their true situation at m6 and m18."""

    cohort: int
    school: np.ndarray
    qual: np.ndarray
    industry: np.ndarray
    country: np.ndarray
    sex: np.ndarray
    birth: np.ndarray
    graduation: np.ndarray
    first_idx: np.ndarray
    sur1_idx: np.ndarray
    sur2_idx: np.ndarray  # -1 outside Spain
    first_name: pa.Array
    last_name: pa.Array
    email: pa.Array
    phone: pa.Array
    student_id: pa.Array
    national_id: pa.Array  # everyone has one; the register lacks it where has_national_id is false
    has_national_id: np.ndarray
    language: np.ndarray
    token: pa.Array
    plan: np.ndarray
    prior_work: np.ndarray
    propensity: np.ndarray
    abroad: np.ndarray
    status: dict[str, np.ndarray] = field(default_factory=dict)
    job: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    same_job: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def n(self) -> int:
        return len(self.school)


def pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a probability matrix (n x k), vectorised by inverse CDF."""
    probs = np.asarray(probs, dtype=float)
    cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(probs))
    return np.minimum((cdf < u[:, None]).sum(axis=1), probs.shape[1] - 1).astype(np.int8)


def pick_by(rng: np.random.Generator, table: dict, keys: np.ndarray) -> np.ndarray:
    """Categorical draws whose probabilities depend on a per-row key (e.g. the sector)."""
    order = sorted(table)
    matrix = np.array([table[k] for k in order], dtype=float)
    return pick(rng, matrix[np.searchsorted(order, keys)])


def bernoulli_by(rng: np.random.Generator, table: dict, keys: np.ndarray) -> np.ndarray:
    """Yes/no draws (True = yes) with a per-row probability looked up by key."""
    order = sorted(table)
    p = np.array([table[k] for k in order])[np.searchsorted(order, keys)]
    return rng.random(len(keys)) < p


def zipf_weights(n: int) -> np.ndarray:
    """A few names are very common, most are rare: that is what produces homonyms."""
    w = 1.0 / (np.arange(n) + 2.0) ** 0.9
    return w / w.sum()


def status_given_plan(country: str, industry: bool) -> np.ndarray:
    """P(m6 status | plan) (6 plans x 7 statuses), calibrated so the m6 margin meets the target."""
    target = np.array(M6_TARGET[country], dtype=float)
    target[ST["work"]] += SECTOR_SHIFT[industry]
    target[ST["further_studies"]] -= SECTOR_SHIFT[industry]
    plans = np.array(PLAN_DIST[industry])
    follow = np.zeros((6, 7))
    alpha = np.full(6, PLAN_FOLLOW)
    alpha[PLAN["undecided"]] = 0.0
    for plan, p in PLAN.items():
        if plan != "undecided":
            follow[p, ST[plan]] = 1.0
    base = (target - (plans * alpha) @ follow) / (plans @ (1 - alpha))
    base = np.clip(base, 0.001, None)
    base /= base.sum()
    return alpha[:, None] * follow + (1 - alpha[:, None]) * base[None, :]


@dataclass
class Taken:
    """Identifiers given to the graduates of earlier cohorts, which nobody else may get."""

    national_ids: np.ndarray = field(default_factory=lambda: np.array([], dtype="U16"))
    emails: np.ndarray = field(default_factory=lambda: np.array([], dtype=str))

    def add(self, pop: Cohort) -> None:
        ids_now = np.asarray(pop.national_id.to_numpy(zero_copy_only=False), dtype="U16")
        mails = pc.drop_null(pop.email).to_numpy(zero_copy_only=False).astype(str)
        self.national_ids = np.concatenate([self.national_ids, ids_now])
        self.emails = np.concatenate([self.emails, mails])


def draw_cohort(seed: int, cohort: int, n: int, taken: Taken | None = None) -> Cohort:
    """Draw the graduates of one cohort with their identities and trajectories.

    `taken` holds the national ids and e-mails of earlier cohorts: a person is one graduate only.
    """
    taken = taken or Taken()
    rng = stream(seed, "population", cohort)
    school_w = np.array([s.weight for s in SCHOOLS])
    school = np.sort(rng.choice(len(SCHOOLS), size=n, p=school_w / school_w.sum()))
    qual = np.empty(n, dtype=np.int64)
    offset = 0
    for s_i, s in enumerate(SCHOOLS):
        rows = school == s_i
        w = np.array([q.weight for q in s.qualifications])
        qual[rows] = offset + rng.choice(len(w), size=int(rows.sum()), p=w / w.sum())
        offset += len(w)
    industry = QUAL_INDUSTRY[qual]
    country = SCHOOL_COUNTRY[school]

    u = rng.random(n)
    sex = np.where(u < QUAL_FEMALE[qual], 0, 1).astype(np.int8)  # F, M
    sex[rng.random(n) < SEX_X] = 2
    female = sex == 0

    grad_by_qual = np.array(
        [np.datetime64(f"{cohort}-{q.grad_month_day[0]:02d}-{q.grad_month_day[1]:02d}") for q in QUALS]
    )
    graduation = grad_by_qual[qual]
    base_age = np.select([QUAL_EQF[qual] <= 3, QUAL_EQF[qual] == 4], [18.2, 19.0], 20.6)
    age = np.clip(base_age + rng.normal(0, 0.7, n) + rng.exponential(0.5, n), 16.8, 35)
    birth = graduation - np.round(age * 365.25).astype("timedelta64[D]")

    first_idx = np.empty(n, dtype=np.int64)
    sur1 = np.empty(n, dtype=np.int64)
    sur2 = np.full(n, -1, dtype=np.int64)
    name_female = np.where(sex == 2, rng.random(n) < 0.5, female)
    for c in range(len(COUNTRIES)):
        for fem in (0, 1):
            rows = (country == c) & (name_female == fem)
            lo, hi = _FIRST_RANGES[(c, fem)]
            first_idx[rows] = lo + rng.choice(hi - lo, size=int(rows.sum()), p=zipf_weights(hi - lo))
        rows = country == c
        lo, hi = _SURNAME_RANGES[c]
        sur1[rows] = lo + rng.choice(hi - lo, size=int(rows.sum()), p=zipf_weights(hi - lo))
        if COUNTRIES[c] == "ES":
            sur2[rows] = lo + rng.choice(hi - lo, size=int(rows.sum()), p=zipf_weights(hi - lo))
    first_name = from_codes(first_idx, FIRST_NAMES)
    spanish = sur2 >= 0
    last_name = choose(
        spanish,
        join(from_codes(sur1, SURNAMES), from_codes(np.where(spanish, sur2, 0), SURNAMES), sep=" "),
        from_codes(sur1, SURNAMES),
    )

    national_id = _national_ids(rng, country, first_idx, sur1, birth, female, taken.national_ids)
    no_id_p = np.array([NO_NATIONAL_ID[c] for c in COUNTRIES])[country]
    has_national_id = rng.random(n) >= no_id_p

    email = _emails(rng, country, first_idx, sur1, birth, taken.emails)
    phone = _phones(rng, country)
    student_id = _student_ids(rng, school, cohort)
    lang = np.array([LANGUAGES.index(s.language) for s in SCHOOLS])[school]
    lang[QUAL_INTERNATIONAL[qual]] = LANGUAGES.index("en")
    token = null_if(ids.unique_random_strings(rng, n, 15), ~SCHOOL_TOKENS[school])

    pop = Cohort(
        cohort=cohort,
        school=school,
        qual=qual,
        industry=industry,
        country=country,
        sex=sex,
        birth=birth,
        graduation=graduation,
        first_idx=first_idx,
        sur1_idx=sur1,
        sur2_idx=sur2,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        student_id=student_id,
        national_id=national_id,
        has_national_id=has_national_id,
        language=lang,
        token=token,
        plan=np.zeros(n, dtype=np.int8),
        prior_work=(rng.random(n) < np.where(industry, 0.48, 0.42)).astype(np.int8),
        propensity=rng.normal(0, 1, n),
        abroad=rng.random(n) < np.array([ABROAD[c] for c in COUNTRIES])[country],
    )
    _draw_trajectories(stream(seed, "trajectories", cohort), pop)
    return pop


def _national_ids(
    rng: np.random.Generator,
    country: np.ndarray,
    first_idx: np.ndarray,
    sur1: np.ndarray,
    birth: np.ndarray,
    female: np.ndarray,
    taken: np.ndarray,
) -> pa.Array:
    """Each graduate's real national identifier in the shape of their country, unique over cohorts."""

    def draw(code: str, rows: np.ndarray) -> np.ndarray:
        if code == "ES":
            numbers = rng.integers(DNI_RANGE[0], DNI_RANGE[1], len(rows))
            values = ids.spanish_ids(rng, numbers, NIE_SHARE)
        elif code == "EE":
            values = ids.isikukood(rng, birth[rows], female[rows])
        elif code == "IT":
            values = ids.codice_fiscale(
                rng, FIRST_NAMES, SURNAMES, first_idx[rows], sur1[rows], birth[rows], female[rows]
            )
        else:
            values = ids.bsn(rng, len(rows))
        return np.asarray(values.to_numpy(zero_copy_only=False), dtype="U16")

    out = np.empty(len(country), dtype="U16")
    for c, code in enumerate(COUNTRIES):
        rows = np.flatnonzero(country == c)
        if len(rows):
            out[rows] = draw(code, rows)
    while True:  # a clash with another graduate (this cohort or an earlier one): draw again
        clash = ids.duplicated(out) | np.isin(out, taken)
        if not clash.any():
            return pa.array(out, pa.string())
        for c, code in enumerate(COUNTRIES):
            rows = np.flatnonzero(clash & (country == c))
            if len(rows):
                out[rows] = draw(code, rows)


def _emails(
    rng: np.random.Generator,
    country: np.ndarray,
    first_idx: np.ndarray,
    sur1: np.ndarray,
    birth: np.ndarray,
    taken: np.ndarray,
) -> pa.Array:
    """`lucia.fernandez03@gmail.com`-like addresses, unique, and missing for a few graduates."""
    n = len(country)
    first = from_codes(first_idx, FIRST_SLUGS)
    last = from_codes(sur1, SURNAME_SLUGS)
    sep = from_codes(rng.choice(3, size=n, p=[0.6, 0.3, 0.1]), (".", "", "_"))
    year = int_str(birth.astype("datetime64[Y]").astype(np.int64) % 100, 2)
    kind = rng.choice(3, size=n, p=[0.45, 0.35, 0.2])
    suffix = choose(kind == 0, "", choose(kind == 1, year, int_str(rng.integers(1, 999, n))))
    domain_idx = np.zeros(n, dtype=np.int64)
    domains: list[str] = []
    for c, code in enumerate(COUNTRIES):
        names = BY_COUNTRY[code]
        rows = country == c
        w = np.array(names.email_domain_weights)
        domain_idx[rows] = len(domains) + rng.choice(len(w), size=int(rows.sum()), p=w / w.sum())
        domains += names.email_domains
    local = join(first, sep, last, suffix)
    values = np.asarray(local.to_numpy(zero_copy_only=False), dtype=object)
    domain = np.asarray(from_codes(domain_idx, domains).to_numpy(zero_copy_only=False), dtype=object)
    full = values + "@" + domain
    while True:  # two Lucía Fernández may not share a mailbox: add digits until unique
        text = full.astype(str)
        dup = ids.duplicated(text) | np.isin(text, taken)
        if not dup.any():
            break
        extra = np.asarray(int_str(rng.integers(1, 99, int(dup.sum()))).to_numpy(zero_copy_only=False))
        values[dup] = values[dup] + extra.astype(object)
        full = values + "@" + domain
    return null_if(pa.array(full, pa.string()), rng.random(n) < 0.03)


def _phones(rng: np.random.Generator, country: np.ndarray) -> pa.Array:
    """Mobile numbers as each country writes them; a few missing."""
    n = len(country)
    digits = rng.integers(0, 100_000_000, size=n)
    d8 = int_str(digits, 8)
    es = choose(rng.random(n) < 0.6, join("6", d8), join("+34 6", d8))
    ee = join("+372 5", int_str(digits % 10_000_000, 7))
    it = join("+39 3", int_str(rng.integers(20, 99, n), 2), " ", int_str(digits % 10_000_000, 7))
    nl = join("06-", d8)
    out = choose(country == 0, es, choose(country == 1, ee, choose(country == 2, it, nl)))
    return null_if(out, rng.random(n) < 0.05)


def _student_ids(rng: np.random.Generator, school: np.ndarray, cohort: int) -> pa.Array:
    """School-specific ids, unique within the school over all cohorts (the cohort year is in them)."""
    n = len(school)
    seq = np.zeros(n, dtype=np.int64)
    for s_i in range(len(SCHOOLS)):
        rows = np.flatnonzero(school == s_i)
        seq[rows] = rng.permutation(len(rows)) + 1 + rng.integers(0, 40)
    width = max(4, len(str(int(seq.max()) if n else 0)))
    yy = int_str(np.full(n, cohort % 100), 2)
    number = int_str(seq, width)
    prefix = from_codes(school, [s.student_id_prefix for s in SCHOOLS])
    dash = from_codes(school, ["-" if s.student_id_prefix else "" for s in SCHOOLS])
    return join(prefix, dash, yy, dash, number)


def _draw_trajectories(rng: np.random.Generator, pop: Cohort) -> None:
    """Plans, true m6/m18 statuses and the answers a truthful respondent would give about them."""
    n = pop.n
    ind = pop.industry.astype(int)
    pop.plan = pick_by(rng, {1: PLAN_DIST[True], 0: PLAN_DIST[False]}, ind)
    m6 = np.empty(n, dtype=np.int8)
    for c, code in enumerate(COUNTRIES):
        for industry in (True, False):
            rows = (pop.country == c) & (pop.industry == industry)
            m6[rows] = pick(rng, status_given_plan(code, industry)[pop.plan[rows]])
    m18 = pick(rng, TRANSITION[m6])
    pop.status = {"m6": m6, "m18": m18}

    def empty() -> np.ndarray:
        return np.full(n, -1, dtype=np.int8)

    items = (
        "months_to_first_job",
        "job_found_via",
        "job_related_to_qualification",
        "contract_type",
        "working_time",
        "unpaid_extra_hours",
        "monthly_net_wage_band",
        "job_seeking_while_employed",
        "study_level",
        "study_related_to_qualification",
        "had_job_since_graduation",
    )
    job = {w: {item: empty() for item in items} for w in ("m6", "m18")}
    yes, no = 0, 1

    def draw_wage_job(w: str, rows: np.ndarray, contract: dict, part: dict, wage_ft: dict) -> None:
        j, k = job[w], ind[rows]
        j["job_found_via"][rows] = pick_by(rng, FOUND_VIA, k)
        j["job_related_to_qualification"][rows] = pick_by(rng, RELATED, k)
        j["contract_type"][rows] = pick_by(rng, contract, k)
        pt = bernoulli_by(rng, part, k)
        j["working_time"][rows] = pt.astype(np.int8)
        ft_band = pick_by(rng, wage_ft, k)
        pt_band = pick(rng, np.tile(WAGE_PART_TIME, (len(k), 1)))
        j["monthly_net_wage_band"][rows] = np.where(pt, pt_band, ft_band)
        j["unpaid_extra_hours"][rows] = np.where(bernoulli_by(rng, UNPAID, k), yes, no)
        j["job_seeking_while_employed"][rows] = np.where(bernoulli_by(rng, SEEKING, k), yes, no)

    def draw_self_job(w: str, rows: np.ndarray) -> None:
        j, m = job[w], len(rows)
        j["job_related_to_qualification"][rows] = pick(rng, np.tile((0.6, 0.2, 0.2), (m, 1)))
        j["working_time"][rows] = (rng.random(m) < 0.3).astype(np.int8)
        j["monthly_net_wage_band"][rows] = pick(rng, np.tile(WAGE_SELF, (m, 1)))

    def draw_study(w: str, rows: np.ndarray) -> None:
        job[w]["study_level"][rows] = pick(rng, np.tile(STUDY_LEVEL, (len(rows), 1)))
        job[w]["study_related_to_qualification"][rows] = np.where(
            rng.random(len(rows)) < STUDY_RELATED, yes, no
        )

    wage6 = np.flatnonzero(np.isin(m6, WAGE))
    self6 = np.flatnonzero(m6 == ST["self_employed"])
    draw_wage_job("m6", wage6, CONTRACT_M6, PART_TIME_M6, WAGE_FULL_TIME_M6)
    draw_self_job("m6", self6)
    emp6 = np.isin(m6, EMPLOYED)
    job["m6"]["months_to_first_job"][emp6] = pick(rng, np.tile(FIRST_JOB_EARLY, (int(emp6.sum()), 1)))
    draw_study("m6", np.flatnonzero(np.isin(m6, STUDYING)))
    unemp6 = m6 == ST["unemployed"]
    had6 = unemp6 & (rng.random(n) < HAD_JOB_M6)
    job["m6"]["had_job_since_graduation"][unemp6] = np.where(had6[unemp6], yes, no)

    # m18: a job held at m6 often continues (same employer), with the usual upgrades after a year.
    wage18 = np.isin(m18, WAGE)
    self18 = m18 == ST["self_employed"]
    continuing = ((np.isin(m6, WAGE) & wage18) | ((m6 == ST["self_employed"]) & self18)) & (
        rng.random(n) < SAME_JOB
    )
    pop.same_job = continuing
    j6, j18 = job["m6"], job["m18"]
    for item in (
        "months_to_first_job",
        "job_found_via",
        "job_related_to_qualification",
        "contract_type",
        "working_time",
        "unpaid_extra_hours",
        "monthly_net_wage_band",
    ):
        j18[item][continuing] = j6[item][continuing]
    ct = j18["contract_type"]
    c = code_index("contract_type")
    u = rng.random(n)
    ct[continuing & (ct == c["temporary"]) & (u < 0.30)] = c["permanent"]
    appr = continuing & (ct == c["apprenticeship"])
    ct[appr & (u < 0.25)] = c["permanent"]
    ct[appr & (u >= 0.25) & (u < 0.60)] = c["temporary"]
    ct[continuing & (ct == c["no_contract"]) & (u < 0.2)] = c["temporary"]
    to_full = continuing & (j18["working_time"] == 1) & (rng.random(n) < 0.2)
    j18["working_time"][to_full] = 0
    band = j18["monthly_net_wage_band"]
    raise_pay = continuing & (band < 3) & ((rng.random(n) < 0.35) | to_full)
    band[raise_pay] += 1
    j18["job_seeking_while_employed"][continuing & wage18] = np.where(
        bernoulli_by(rng, SEEKING, ind[continuing & wage18]), yes, no
    )

    new_wage18 = np.flatnonzero(wage18 & ~continuing)
    draw_wage_job("m18", new_wage18, CONTRACT_M18, PART_TIME_M18, WAGE_FULL_TIME_M18)
    draw_self_job("m18", np.flatnonzero(self18 & ~continuing))
    new18 = np.isin(m18, EMPLOYED) & ~continuing
    first = j18["months_to_first_job"]
    first[new18 & emp6] = j6["months_to_first_job"][new18 & emp6]
    early = new18 & ~emp6 & had6
    first[early] = pick(rng, np.tile(FIRST_JOB_BEFORE_M6, (int(early.sum()), 1)))
    late = new18 & ~emp6 & ~had6
    first[late] = pick(rng, np.tile(FIRST_JOB_LATE, (int(late.sum()), 1)))

    study18 = np.isin(m18, STUDYING)
    keep_study = study18 & np.isin(m6, STUDYING)
    for item in ("study_level", "study_related_to_qualification"):
        j18[item][keep_study] = j6[item][keep_study]
    draw_study("m18", np.flatnonzero(study18 & ~keep_study))
    unemp18 = m18 == ST["unemployed"]
    had18 = unemp18 & (emp6 | had6 | (rng.random(n) < 0.35))
    j18["had_job_since_graduation"][unemp18] = np.where(had18[unemp18], yes, no)
    pop.job = job


def register_national_id(pop: Cohort) -> pa.Array:
    """The national_id column as the register holds it (empty for the graduates without one)."""
    return null_if(pop.national_id, ~pop.has_national_id)


def graduate_truth(pop: Cohort) -> dict[str, pa.Array]:
    """Columns of truth/graduates.csv for one cohort."""
    status = CODEBOOK["current_status"]
    plans = CODEBOOK["plan_after_graduation"]
    return {
        "school_code": from_codes(pop.school, [s.code for s in SCHOOLS]),
        "student_id": pop.student_id,
        "cohort": int_str(np.full(pop.n, pop.cohort)),
        "sector_group": choose(pop.industry, "industry", "services"),
        "plan_after_graduation": from_codes(pop.plan, plans),
        "status_m6": from_codes(pop.status["m6"], status),
        "status_m18": from_codes(pop.status["m18"], status),
        "contract_type_m6": from_codes(pop.job["m6"]["contract_type"], CODEBOOK["contract_type"]),
        "contract_type_m18": from_codes(pop.job["m18"]["contract_type"], CODEBOOK["contract_type"]),
        "same_job_m6_m18": choose(pop.same_job, "true", "false"),
        "works_abroad": choose(pop.abroad & np.isin(pop.status["m6"], EMPLOYED), "true", "false"),
        "has_national_id": choose(pop.has_national_id, "true", "false"),
        "national_id": pop.national_id,
    }
