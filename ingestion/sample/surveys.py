"""Survey responses of one wave: who answers, when, what, and how they identify themselves.

Attrition is correlated (a latent propensity per graduate), unemployed graduates answer less at m6/m18
(non-response bias the reports must live with), and each response carries the identification mistakes
real respondents make, bounded so that a human can still link a response without a student id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.contract import (
    CODEBOOK,
    EMPLOYED_STATUSES,
    LANGUAGES,
    POST_GRADUATION_ITEMS,
    PRE_GRADUATION_ITEMS,
    STUDYING_STATUSES,
    SURVEY,
    WAGE_EARNER_STATUSES,
)
from ingestion.sample import ids
from ingestion.sample.population import (
    COUNTRIES,
    FIRST_SLUGS,
    ST,
    SURNAMES,
    Cohort,
    pick,
    stream,
)
from ingestion.sample.schools import SCHOOLS, School
from ingestion.sample.text import (
    choose,
    format_dates,
    format_decimal,
    format_timestamps,
    from_codes,
    int_str,
    join,
    multi_join,
    null_if,
    strip_accents,
)

RESPONSE_RATE = {"pre_graduation": 0.90, "m6": 0.70, "m18": 0.55}
STARTED_ONLY = {"pre_graduation": 0.30, "m6": 0.25, "m18": 0.15}  # of non-respondents
ABANDONED_THEN_FINISHED = 0.035  # of respondents: an unfinished attempt before the complete one
DUPLICATE = 0.02  # of respondents: an earlier complete submission, superseded by the later one
PROPENSITY_WEIGHT = 0.75  # correlation of response across waves
SCHOOL_EFFECT = {"NL": 0.35, "IT": -0.25, "EE": 0.0, "ES": 0.0}
MEDIAN_MINUTES = {
    "pre_graduation": {"ES": 7.0, "EE": 8.0, "IT": 9.0, "NL": 4.0},
    "post": {"ES": 5.5, "EE": 7.0, "IT": 6.0, "NL": 3.5},
}
NATIONAL_ID_ASKED = {"ES": 0.5, "EE": 0.4, "IT": 0.6, "NL": 0.0}

PRE_ORDER = (
    "plan_after_graduation",
    "prior_work_experience",
    "perceived_opportunities_region",
    "perceived_opportunities_sector",
    "alumni_contact_consent",
    "relevant_skills",
    "wish_learned_more",
    "alumni_contribution",
)
POST_ORDER = (
    "current_status",
    "months_to_first_job",
    "job_found_via",
    "job_related_to_qualification",
    "contract_type",
    "working_time",
    "relevant_skills",
    "unpaid_extra_hours",
    "monthly_net_wage_band",
    "job_seeking_while_employed",
    "study_level",
    "study_related_to_qualification",
    "unemployment_reasons",
    "had_job_since_graduation",
    "expectations_met",
    "wish_learned_more",
    "alumni_contribution",
)
MULTI = ("relevant_skills", "wish_learned_more", "alumni_contribution", "unemployment_reasons")
ASKED_OF: dict[str, tuple[str, ...]] = {
    "months_to_first_job": EMPLOYED_STATUSES,
    "job_found_via": WAGE_EARNER_STATUSES,
    "job_related_to_qualification": EMPLOYED_STATUSES,
    "contract_type": WAGE_EARNER_STATUSES,
    "working_time": EMPLOYED_STATUSES,
    "unpaid_extra_hours": WAGE_EARNER_STATUSES,
    "monthly_net_wage_band": EMPLOYED_STATUSES,
    "job_seeking_while_employed": WAGE_EARNER_STATUSES,
    "study_level": STUDYING_STATUSES,
    "study_related_to_qualification": STUDYING_STATUSES,
    "unemployment_reasons": ("unemployed",),
    "had_job_since_graduation": ("unemployed",),
}
SKILLS_P = (0.70, 0.58, 0.42, 0.50, 0.33, 0.10, 0.10)
WISH_P = {"pre": (0.50, 0.38, 0.30, 0.30, 0.15, 0.18), "post": (0.45, 0.30, 0.28, 0.25, 0.35, 0.38)}
ALUMNI_P = (0.18, 0.32, 0.22, 0.05, 0.40)  # mentoring .. surveys; `none` when nothing ticked
REASONS_P = (0.45, 0.50, 0.25, 0.20, 0.15, 0.08)
# expectations met (yes, partly, no): related job, studying, unemployed/inactive, anything else
EXPECTATIONS = np.array([[0.62, 0.28, 0.10], [0.55, 0.35, 0.10], [0.15, 0.30, 0.55], [0.32, 0.40, 0.28]])
REGION_MEAN = {"ES": 2.6, "EE": 3.2, "IT": 3.0, "NL": 3.7}

ROLES = ("final", "superseded_duplicate", "unfinished")


def questions(wave: str) -> tuple[str, ...]:
    """The items of a wave in questionnaire order (unfinished responses stop somewhere along it)."""
    return PRE_ORDER if wave == "pre_graduation" else POST_ORDER


@dataclass
class WaveResponses:
    """All responses of one wave and cohort, one row per response (several per graduate possible)."""

    wave: str
    g: np.ndarray  # the graduate each response truly belongs to
    role: np.ndarray  # index into ROLES
    started: np.ndarray  # datetime64[s]
    submitted: np.ndarray  # datetime64[s], NaT when unfinished
    seconds: np.ndarray  # time spent
    answered: np.ndarray  # items answered, in questionnaire order (all for complete responses)
    single: dict[str, np.ndarray]  # codebook index, -1 = empty
    multi: dict[str, np.ndarray]  # n x k booleans, no tick = empty
    student_id: pa.Array
    school_code_given: np.ndarray  # bool
    national_id: pa.Array
    first_name: pa.Array
    last_name: pa.Array
    birth_date: np.ndarray  # datetime64[D], NaT = not given
    email: pa.Array

    @property
    def n(self) -> int:
        return len(self.g)


def _ticks(rng: np.random.Generator, n: int, probs: tuple[float, ...], at_least_one: bool) -> np.ndarray:
    ticked = rng.random((n, len(probs))) < np.asarray(probs)
    if at_least_one:
        none = ~ticked.any(axis=1)
        forced = pick(rng, np.tile(probs, (int(none.sum()), 1)))
        ticked[np.flatnonzero(none), forced] = True
    return ticked


def _typo(rng: np.random.Generator, values: pa.Array, mask: np.ndarray) -> pa.Array:
    """Drop, swap or double one letter near the start of the name (vectorised per kind of typo)."""
    length = np.asarray(pc.fill_null(pc.utf8_length(values), 0).to_numpy(zero_copy_only=False))
    kind = rng.integers(0, 6, size=len(mask))
    out = values
    for k in range(6):
        op, pos = divmod(k, 2)
        pos += 1
        rows = mask & (kind == k) & (length >= pos + 3)
        if not rows.any():
            continue
        head = pc.utf8_slice_codeunits(values, 0, pos)
        a = pc.utf8_slice_codeunits(values, pos, pos + 1)
        b = pc.utf8_slice_codeunits(values, pos + 1, pos + 2)
        rest = pc.utf8_slice_codeunits(values, pos + 2, 1 << 20)
        if op == 0:
            changed = join(head, b, rest)
        elif op == 1:
            changed = join(head, b, a, rest)
        else:
            changed = join(head, a, a, b, rest)
        out = choose(rows, changed, out)
    return out


def _swap_day_month(days: np.ndarray) -> np.ndarray:
    year = days.astype("datetime64[Y]")
    month = (days.astype("datetime64[M]") - year.astype("datetime64[M]")).astype(np.int64)
    day = (days - days.astype("datetime64[M]")).astype(np.int64)
    return (year.astype("datetime64[M]") + day).astype("datetime64[D]") + month


def build_wave(seed: int, pop: Cohort, wave: str) -> WaveResponses:
    """Draw who answers the wave, when, with which answers and which identification."""
    rng = stream(seed, "survey", pop.cohort, wave)
    n = pop.n
    post = wave != "pre_graduation"
    country = np.array(COUNTRIES)[pop.country]

    score = PROPENSITY_WEIGHT * pop.propensity + np.sqrt(1 - PROPENSITY_WEIGHT**2) * rng.normal(size=n)
    score += np.array([SCHOOL_EFFECT[c] for c in COUNTRIES])[pop.country]
    if post:
        status = pop.status[wave]
        score -= 0.3 * np.isin(status, [ST["unemployed"], ST["inactive"]])
    respond = np.zeros(n, dtype=bool)
    respond[np.argsort(-score, kind="stable")[: round(RESPONSE_RATE[wave] * n)]] = True
    abandoned = respond & (rng.random(n) < ABANDONED_THEN_FINISHED)
    duplicate = respond & (rng.random(n) < DUPLICATE)
    started_only = ~respond & (rng.random(n) < STARTED_ONLY[wave])

    groups = (respond, duplicate, abandoned, started_only)
    g = np.concatenate([np.flatnonzero(m) for m in groups])
    role = np.concatenate([np.full(int(m.sum()), r) for m, r in zip(groups, (0, 1, 2, 2), strict=True)])
    m = len(g)

    # When: the first attempt in the fielding window, later attempts after it.
    evening = rng.random(n)
    if wave == "pre_graduation":  # filled in class, some at home
        window = np.datetime64(f"{pop.cohort}-03-01T00:00:00")
        hours = np.where(evening < 0.8, rng.uniform(8.5, 14.5, n), rng.uniform(15.0, 22.5, n))
    else:  # at home, mostly in the evening
        year = pop.cohort + (1 if wave == "m6" else 2)
        window = np.datetime64(f"{year}-01-08T00:00:00")
        hours = np.where(evening < 0.7, rng.uniform(16.0, 23.8, n), rng.uniform(7.5, 16.0, n))
    day = np.floor(16 * rng.beta(1.0, 1.8, n)).astype(np.int64)  # invitation, then reminders
    t0 = window + (day * 86400 + hours * 3600).astype("timedelta64[s]")
    gap1 = rng.integers(1800, 2 * 86400, n).astype("timedelta64[s]")
    gap2 = rng.integers(3600, 3 * 86400, n).astype("timedelta64[s]")
    zero = np.timedelta64(0, "s")
    after_abandon = np.where(abandoned[g], gap1[g], zero)
    after_duplicate = np.where(duplicate[g], gap2[g], zero)
    shift = np.where(role == 0, after_abandon + after_duplicate, np.where(role == 1, after_abandon, zero))
    started = t0[g] + shift
    medians = MEDIAN_MINUTES["post" if post else "pre_graduation"]
    median = np.array([medians[c] for c in COUNTRIES])[pop.country[g]] * 60
    seconds = np.where(role == 2, rng.lognormal(np.log(100), 0.7, m), rng.lognormal(np.log(median), 0.45, m))
    seconds = np.maximum(seconds, 20.0)
    submitted = np.where(
        role == 2, np.datetime64("NaT"), started + np.round(seconds).astype("timedelta64[s]")
    ).astype("datetime64[s]")

    # What: facts from the truth, opinions drawn per response (a duplicate may answer differently).
    order = questions(wave)
    single: dict[str, np.ndarray] = {}
    multi: dict[str, np.ndarray] = {}
    ind = pop.industry[g]
    multi["relevant_skills"] = _ticks(rng, m, SKILLS_P, True)
    multi["wish_learned_more"] = _ticks(rng, m, WISH_P["post" if post else "pre"], True)
    if post:
        status = pop.status[wave][g]
        single["current_status"] = status
        for item, values in pop.job[wave].items():
            single[item] = values[g]
        multi["unemployment_reasons"] = _ticks(rng, m, REASONS_P, True)
        unemployed = status == ST["unemployed"]
        related = single["job_related_to_qualification"]
        good = np.isin(status, [ST["work"], ST["work_and_study"], ST["self_employed"]]) & (related == 0)
        studying = np.isin(status, [ST["further_studies"], ST["work_and_study"]])
        group = np.select([good, studying, unemployed | (status == ST["inactive"])], [0, 1, 2], 3)
        single["expectations_met"] = pick(rng, EXPECTATIONS[group])
        consent = rng.random(m) < 0.68
    else:
        single["plan_after_graduation"] = pop.plan[g]
        single["prior_work_experience"] = pop.prior_work[g]
        region_mean = np.array([REGION_MEAN[c] for c in COUNTRIES])[pop.country[g]]
        sector_mean = np.where(ind, 3.6, 3.0)
        for item, mean in (
            ("perceived_opportunities_region", region_mean),
            ("perceived_opportunities_sector", sector_mean),
        ):
            single[item] = (np.clip(np.round(rng.normal(mean, 0.9)), 1, 5) - 1).astype(np.int8)
        consent = rng.random(m) < 0.68
        single["alumni_contact_consent"] = np.where(consent, 0, 1).astype(np.int8)
    alumni = rng.random((m, len(ALUMNI_P))) < np.asarray(ALUMNI_P) * np.where(consent, 1.0, 0.35)[:, None]
    multi["alumni_contribution"] = np.column_stack([alumni, ~alumni.any(axis=1)])

    # Not asked: empty. Unfinished: everything after the last answered question empty.
    if post:
        status = single["current_status"]
        for item, statuses in ASKED_OF.items():
            asked = np.isin(status, [ST[s] for s in statuses])
            if item in multi:
                multi[item] &= asked[:, None]
            else:
                single[item] = np.where(asked, single[item], -1).astype(np.int8)
    answered = np.where(role == 2, rng.integers(0, len(order), m), len(order))
    for pos, item in enumerate(order):
        cut = answered <= pos
        if item in multi:
            multi[item] &= ~cut[:, None]
        else:
            single[item] = np.where(cut, -1, single[item]).astype(np.int8)

    resp = WaveResponses(
        wave=wave,
        g=g,
        role=role,
        started=started,
        submitted=submitted,
        seconds=seconds,
        answered=answered,
        single=single,
        multi=multi,
        student_id=pop.student_id,
        school_code_given=np.ones(m, dtype=bool),
        national_id=pop.national_id,
        first_name=pop.first_name,
        last_name=pop.last_name,
        birth_date=pop.birth,
        email=pop.email,
    )
    _identification(rng, pop, resp, country)
    return resp


def _identification(rng: np.random.Generator, pop: Cohort, resp: WaveResponses, country: np.ndarray) -> None:
    """What respondents type about themselves: mostly right, sometimes not, always human-linkable."""
    g, m = resp.g, resp.n
    ctry = country[g]
    spanish = ctry == "ES"
    no_sid = rng.random(m) < 0.10

    first = pc.take(pop.first_name, pa.array(g))
    last = pc.take(pop.last_name, pa.array(g))
    email = pc.take(pop.email, pa.array(g))
    birth = pop.birth[g]

    # Hard errors, at most one for a response without student id (so it stays linkable by a human).
    u = rng.random((m, 6))
    errors = np.column_stack(
        [
            u[:, 0] < 0.015,  # typo in first name
            u[:, 1] < 0.015,  # typo in last name
            spanish & (u[:, 2] < 0.08),  # only the first of two surnames
            u[:, 3] < 0.05,  # day and month swapped (kept only where valid: ~2 % of all)
            u[:, 4] < 0.03,  # another e-mail address
            u[:, 5] < 0.10,  # no e-mail given
        ]
    )
    keep_one = np.cumsum(errors, axis=1) <= 1
    errors &= np.where(no_sid[:, None], keep_one, True)
    typo_first, typo_last, surname_only, swap, other_mail, no_mail = errors.T

    sur1 = pc.take(pa.array(SURNAMES), pa.array(np.where(pop.sur1_idx[g] >= 0, pop.sur1_idx[g], 0)))
    last = choose(surname_only, sur1, last)
    first = _typo(rng, first, typo_first)
    last = _typo(rng, last, typo_last)
    accents = rng.random(m) < 0.03
    first = choose(accents, strip_accents(first), first)
    last = choose(accents, strip_accents(last), last)
    case = rng.choice(3, size=m, p=[0.85, 0.10, 0.05])  # as registered, lower, upper
    first = choose(case == 1, pc.utf8_lower(first), choose(case == 2, pc.utf8_upper(first), first))
    last = choose(case == 1, pc.utf8_lower(last), choose(case == 2, pc.utf8_upper(last), last))

    day = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
    month = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    swap &= (day <= 12) & (day != month)
    birth = np.where(swap, _swap_day_month(birth), birth)
    birth = np.where(~no_sid & (rng.random(m) < 0.04), np.datetime64("NaT"), birth)

    alt = join(
        pc.take(pa.array(FIRST_SLUGS), pa.array(pop.first_idx[g])),
        int_str(rng.integers(10, 99, m)),
        "@",
        from_codes(rng.integers(0, 2, m), ("gmail.com", "outlook.com")),
    )
    email = choose(other_mail, alt, email)
    mail_case = rng.random(m)
    email = choose(mail_case < 0.05, pc.utf8_capitalize(email), email)
    email = choose((mail_case >= 0.05) & (mail_case < 0.08), pc.utf8_upper(email), email)
    email = null_if(email, no_mail)

    nid = pc.take(pop.national_id, pa.array(g))
    asked = rng.random(m) < np.array([NATIONAL_ID_ASKED[c] for c in COUNTRIES])[pop.country[g]]
    variant = rng.choice(4, size=m, p=[0.7, 0.12, 0.12, 0.06])
    is_dni = np.asarray(
        pc.fill_null(pc.match_substring_regex(nid, r"^[0-9]{8}[A-Z]$"), False).to_numpy(zero_copy_only=False)
    )
    body, letter = pc.utf8_slice_codeunits(nid, 0, 8), pc.utf8_slice_codeunits(nid, 8, 9)
    dotted = join(
        pc.utf8_slice_codeunits(nid, 0, 2),
        ".",
        pc.utf8_slice_codeunits(nid, 2, 5),
        ".",
        pc.utf8_slice_codeunits(nid, 5, 8),
        "-",
        letter,
    )
    nid = choose(spanish & is_dni & (variant == 1), join(body, letter, sep="-"), nid)
    nid = choose(spanish & is_dni & (variant == 2), pc.utf8_lower(nid), nid)
    nid = choose(spanish & is_dni & (variant == 3), dotted, nid)
    nid = choose((ctry == "IT") & (variant == 2), pc.utf8_lower(nid), nid)
    nid = null_if(nid, ~asked)

    # Abandoned on the first page: nothing but paradata.
    blank = (resp.role == 2) & (resp.answered == 0) & (rng.random(m) < 0.5)
    resp.student_id = null_if(pc.take(pop.student_id, pa.array(g)), no_sid | blank)
    resp.school_code_given = rng.random(m) >= 0.01
    resp.national_id = null_if(nid, blank)
    resp.first_name = null_if(first, blank)
    resp.last_name = null_if(last, blank)
    resp.birth_date = np.where(blank, np.datetime64("NaT"), birth)
    resp.email = null_if(email, blank)


# ---- rendering one school's file ---------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """Columns of one survey file (header -> strings) and the truth about each of its rows."""

    columns: dict[str, pa.Array]
    rows: np.ndarray  # indices into WaveResponses, in file order
    response_id: pa.Array


def school_rows(resp: WaveResponses, pop: Cohort, school: int) -> np.ndarray:
    """This school's responses in the order the tool exports them (by start time)."""
    rows = np.flatnonzero(pop.school[resp.g] == school)
    return rows[np.lexsort((rows, resp.started[rows]))]


def render_canonical(
    resp: WaveResponses, pop: Cohort, school_index: int, style: str, rng: np.random.Generator
) -> Rendered:
    """A canonical export (contract column names and codes) as the school's survey tool writes it."""
    school = SCHOOLS[school_index]
    rows = school_rows(resp, pop, school_index)
    k = len(rows)
    take = pa.array(rows)
    if school.country == "NL":
        response_id = join("R_", ids.unique_random_strings(rng, k, 15))
    else:
        response_id = int_str(np.arange(k) + (int(rng.integers(100, 5000)) if school.country == "ES" else 1))
    g = resp.g[rows]
    all_items = set(PRE_GRADUATION_ITEMS) | set(POST_GRADUATION_ITEMS) | set(MULTI)
    names = [c for c in SURVEY.names if c not in all_items]  # paradata and identification
    wave_items = set(questions(resp.wave))
    names += [c for c in SURVEY.names if c in wave_items]
    if not school.issues_tokens:
        names.remove("token")
    if NATIONAL_ID_ASKED[school.country] == 0:
        names.remove("national_id")
    cols: dict[str, pa.Array] = {}
    for name in names:
        if name == "response_id":
            cols[name] = response_id
        elif name == "started_at":
            cols[name] = format_timestamps(resp.started[rows], style)
        elif name == "submitted_at":
            cols[name] = format_timestamps(resp.submitted[rows], style)
        elif name == "language":
            cols[name] = from_codes(pop.language[g], LANGUAGES)
        elif name == "token":
            cols[name] = pc.take(pop.token, pa.array(g))
        elif name == "school_code":
            cols[name] = null_if(pa.array([school.code] * k, pa.string()), ~resp.school_code_given[rows])
        elif name == "birth_date":
            cols[name] = format_dates(resp.birth_date[rows], style)
        elif name in ("student_id", "national_id", "first_name", "last_name", "email"):
            cols[name] = pc.take(getattr(resp, name), take)
        elif name in resp.multi:
            cols[name] = multi_join(resp.multi[name][rows], CODEBOOK[name])
        else:
            cols[name] = from_codes(resp.single[name][rows], CODEBOOK[name])
    return Rendered(cols, rows, response_id)


# LimeSurvey: question codes and answer codes of the Cometa questionnaire.
LS_IDENT = {
    "Q00ID": "student_id",
    "Q00NOME": "first_name",
    "Q00COGNOME": "last_name",
    "Q00NASC": "birth_date",
    "Q00EMAIL": "email",
    "Q00CF": "national_id",
}
LS_QUESTION = {
    "current_status": "Q01",
    "months_to_first_job": "Q02",
    "job_found_via": "Q03",
    "job_related_to_qualification": "Q04",
    "contract_type": "Q05",
    "working_time": "Q06",
    "relevant_skills": "Q07",
    "unpaid_extra_hours": "Q08",
    "monthly_net_wage_band": "Q09",
    "job_seeking_while_employed": "Q10",
    "study_level": "Q11",
    "study_related_to_qualification": "Q12",
    "unemployment_reasons": "Q13",
    "had_job_since_graduation": "Q14",
    "expectations_met": "Q15",
    "wish_learned_more": "Q16",
    "alumni_contribution": "Q17",
    "plan_after_graduation": "Q01",
    "prior_work_experience": "Q02",
    "perceived_opportunities_region": "Q03",
    "perceived_opportunities_sector": "Q04",
    "alumni_contact_consent": "Q05",
}
LS_YES_NO = {
    "prior_work_experience",
    "alumni_contact_consent",
    "unpaid_extra_hours",
    "job_seeking_while_employed",
    "study_related_to_qualification",
    "had_job_since_graduation",
}
LS_SCALE = {"perceived_opportunities_region", "perceived_opportunities_sector"}  # exported as 1-5
LS_STATUS_ORDER = (
    "work",
    "work_and_study",
    "further_studies",
    "self_employed",
    "volunteering",
    "unemployed",
    "inactive",
)


def ls_answer_codes(item: str) -> dict[str, str]:
    """Canonical code -> LimeSurvey answer code (A1.., Y/N for yes/no questions)."""
    if item in LS_YES_NO:
        return {"yes": "Y", "no": "N"}
    codes = LS_STATUS_ORDER if item == "current_status" else CODEBOOK[item]
    return {c: f"A{i + 1}" for i, c in enumerate(codes)}


def ls_header(wave: str) -> list[str]:
    """The LimeSurvey export header of a wave."""
    head = ["id", "submitdate", "lastpage", "startlanguage", "seed", "token", "startdate", "datestamp"]
    head += list(LS_IDENT)
    for item in questions(wave):
        q = LS_QUESTION[item]
        if item in MULTI:
            head += [f"{q}[SQ{j + 1:03d}]" for j in range(len(CODEBOOK[item]))]
        else:
            head.append(q)
    return [*head, "interviewtime"]


def render_limesurvey(
    resp: WaveResponses, pop: Cohort, school_index: int, rng: np.random.Generator
) -> Rendered:
    """A LimeSurvey 'answer codes' CSV export: question codes as headers, Y/empty multi columns."""
    rows = school_rows(resp, pop, school_index)
    k = len(rows)
    g = resp.g[rows]
    take = pa.array(rows)
    response_id = int_str(np.arange(k) + int(rng.integers(3, 30)))
    order = questions(resp.wave)
    pages = 1 + (len(order) + 2) // 3
    complete = resp.role[rows] != 2
    lastpage = np.where(complete, pages, 1 + resp.answered[rows] // 3)
    activity = resp.started[rows] + np.round(resp.seconds[rows]).astype("timedelta64[s]")
    cols: dict[str, pa.Array] = {
        "id": response_id,
        "submitdate": format_timestamps(resp.submitted[rows], "iso"),
        "lastpage": int_str(lastpage),
        "startlanguage": from_codes(pop.language[g], LANGUAGES),
        "seed": int_str(rng.integers(10_000_000, 2_000_000_000, k)),
        "token": pc.take(pop.token, pa.array(g)),
        "startdate": format_timestamps(resp.started[rows], "iso"),
        "datestamp": format_timestamps(activity, "iso"),
    }
    for code, name in LS_IDENT.items():
        if name == "birth_date":
            cols[code] = format_dates(resp.birth_date[rows], "iso")
        else:
            cols[code] = pc.take(getattr(resp, name), take)
    for item in order:
        q = LS_QUESTION[item]
        if item in MULTI:
            ticked = resp.multi[item][rows]
            for j in range(ticked.shape[1]):
                cols[f"{q}[SQ{j + 1:03d}]"] = choose(ticked[:, j], "Y", "")
        elif item in LS_SCALE:
            cols[q] = from_codes(resp.single[item][rows], CODEBOOK[item])
        else:
            mapping = ls_answer_codes(item)
            cols[q] = from_codes(resp.single[item][rows], [mapping[c] for c in CODEBOOK[item]])
    cols["interviewtime"] = format_decimal(resp.seconds[rows], 2, ".")
    return Rendered(cols, rows, response_id)


def limesurvey_mapping(wave: str, school: School) -> str:
    """The mapping YAML (docs/mapping-format.md) that makes the LimeSurvey export canonical."""
    lines = [
        f"# {school.name}: LimeSurvey export of the {wave} questionnaire (answer codes, question codes).",
        "format: limesurvey",
        f"wave: {wave}",
        "constants:",
        f"  school_code: {school.code}",
        "columns:",
        "  id: response_id",
        "  startdate: started_at",
        "  submitdate: submitted_at",
        "  startlanguage: language",
        "  token: token",
    ]
    lines += [f"  {code}: {name}" for code, name in LS_IDENT.items()]
    order = questions(wave)
    lines += [f"  {LS_QUESTION[i]}: {i}" for i in order if i not in MULTI]
    lines.append("multi:")
    for item in (i for i in order if i in MULTI):
        lines.append(f"  {item}:")
        q = LS_QUESTION[item]
        lines += [f'    "{q}[SQ{j + 1:03d}]": "{c}"' for j, c in enumerate(CODEBOOK[item])]
    lines += ['checked: ["Y"]', "values:"]
    for item in (i for i in order if i not in MULTI and i not in LS_SCALE):
        lines.append(f"  {item}:")
        lines += [f'    "{a}": "{c}"' for c, a in ls_answer_codes(item).items()]
    return "\n".join(lines) + "\n"
