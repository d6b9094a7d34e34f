"""The input data contract (v1) as data: columns, types and codebooks.

One place that the readers, the sample generator, the dbt seeds and the docs all read, so that a code
added here is accepted everywhere at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WAVES: tuple[str, ...] = ("pre_graduation", "m6", "m18")
POST_WAVES: tuple[str, ...] = ("m6", "m18")
# Months between graduation and each wave's fieldwork: used to attribute a response to its cohort.
WAVE_OFFSET_MONTHS: dict[str, int] = {"pre_graduation": 0, "m6": 6, "m18": 18}
LANGUAGES: tuple[str, ...] = ("en", "es", "et", "it", "nl")

# Columns that hold personal data (contract § Personal data). They go to `restricted` only.
PERSONAL_COLUMNS: frozenset[str] = frozenset(
    {
        "national_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "birth_date",
        "token",
        "student_id",
    }
)

CODEBOOK: dict[str, tuple[str, ...]] = {
    "sex": ("F", "M", "X"),
    "sector_group": ("industry", "services"),
    "eqf_level": ("2", "3", "4", "5"),
    "language": LANGUAGES,
    "plan_after_graduation": (
        "further_studies",
        "work_and_study",
        "work",
        "self_employed",
        "volunteering",
        "undecided",
    ),
    "prior_work_experience": ("yes", "no"),
    "relevant_skills": (
        "teamwork",
        "problem_solving",
        "communication",
        "technical",
        "digital",
        "languages",
        "entrepreneurship",
    ),
    "wish_learned_more": (
        "technical_skills",
        "career_guidance",
        "soft_skills",
        "job_search",
        "languages",
        "more_practice",
    ),
    "perceived_opportunities_region": ("1", "2", "3", "4", "5"),
    "perceived_opportunities_sector": ("1", "2", "3", "4", "5"),
    "alumni_contact_consent": ("yes", "no"),
    "alumni_contribution": ("mentoring", "talks", "placements", "hiring", "surveys", "none"),
    "current_status": (
        "further_studies",
        "work_and_study",
        "work",
        "self_employed",
        "volunteering",
        "unemployed",
        "inactive",
    ),
    "months_to_first_job": ("lt1", "1to3", "3to6", "6to12", "gt12"),
    "job_found_via": (
        "personal_contacts",
        "placement_company",
        "school",
        "public_employment_service",
        "job_portal",
        "self_application",
        "temp_agency",
        "other",
    ),
    "job_related_to_qualification": ("yes", "partly", "no"),
    "contract_type": ("permanent", "temporary", "apprenticeship", "no_contract"),
    "working_time": ("full_time", "part_time"),
    "unpaid_extra_hours": ("yes", "no"),
    "monthly_net_wage_band": ("lt1000", "1000to1499", "1500to1999", "ge2000", "prefer_not"),
    "job_seeking_while_employed": ("yes", "no"),
    "study_level": ("vet", "university", "other"),
    "study_related_to_qualification": ("yes", "no"),
    "unemployment_reasons": (
        "no_experience",
        "few_offers",
        "low_pay",
        "qualification_mismatch",
        "personal",
        "other",
    ),
    "had_job_since_graduation": ("yes", "no"),
    "expectations_met": ("yes", "partly", "no"),
    "admin_contract_type": ("permanent", "temporary", "apprenticeship", "self_employed"),
    "nace_section": tuple("ABCDEFGHIJKLMNOPQRSTU"),
}

MULTI_CHOICE: frozenset[str] = frozenset(
    {"relevant_skills", "wish_learned_more", "alumni_contribution", "unemployment_reasons"}
)

# Which statuses are asked which post-graduation item (contract § surveys, "asked of").
EMPLOYED_STATUSES = ("work", "work_and_study", "self_employed")
WAGE_EARNER_STATUSES = ("work", "work_and_study")
STUDYING_STATUSES = ("further_studies", "work_and_study")


@dataclass(frozen=True)
class Column:
    """One column of a landing file: its contract type and whether a row without it is refused."""

    name: str
    kind: str = "text"  # text | code | multi | int | decimal | date | timestamp
    required: bool = False
    codebook: str | None = None  # key into CODEBOOK for kind code/multi

    @property
    def codes(self) -> tuple[str, ...]:
        return CODEBOOK[self.codebook or self.name]


@dataclass(frozen=True)
class FileSpec:
    """The columns of one kind of landing file."""

    source: str
    columns: tuple[Column, ...]
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


REGISTER = FileSpec(
    "register",
    (
        Column("student_id", required=True),
        Column("school_code", required=True),
        Column("school_name"),
        Column("country", required=True),
        Column("region"),
        Column("national_id"),
        Column("first_name"),
        Column("last_name"),
        Column("birth_date", "date"),
        Column("sex", "code", required=True),
        Column("email"),
        Column("phone"),
        Column("qualification_code", required=True),
        Column("qualification_name"),
        Column("eqf_level", "code", required=True),
        Column("professional_family", required=True),
        Column("sector_group", "code", required=True),
        Column("cohort", "int", required=True),
        Column("graduation_date", "date", required=True),
        Column("language", "code"),
        # Extension of the contract: the survey tool's invitation token, where the school keeps it.
        Column("token"),
    ),
)

_SURVEY_COMMON = (
    Column("response_id", required=True),
    Column("started_at", "timestamp"),
    Column("submitted_at", "timestamp"),
    Column("language", "code"),
    Column("token"),
    Column("student_id"),
    Column("school_code"),
    Column("national_id"),
    Column("first_name"),
    Column("last_name"),
    Column("birth_date", "date"),
    Column("email"),
)
_SURVEY_SHARED_ITEMS = (
    Column("relevant_skills", "multi"),
    Column("wish_learned_more", "multi"),
    Column("alumni_contribution", "multi"),
)
_PRE_ITEMS = (
    Column("plan_after_graduation", "code"),
    Column("prior_work_experience", "code"),
    Column("perceived_opportunities_region", "code"),
    Column("perceived_opportunities_sector", "code"),
    Column("alumni_contact_consent", "code"),
)
_POST_ITEMS = (
    Column("current_status", "code"),
    Column("months_to_first_job", "code"),
    Column("job_found_via", "code"),
    Column("job_related_to_qualification", "code"),
    Column("contract_type", "code"),
    Column("working_time", "code"),
    Column("unpaid_extra_hours", "code"),
    Column("monthly_net_wage_band", "code"),
    Column("job_seeking_while_employed", "code"),
    Column("study_level", "code"),
    Column("study_related_to_qualification", "code"),
    Column("unemployment_reasons", "multi"),
    Column("had_job_since_graduation", "code"),
    Column("expectations_met", "code"),
)

# One survey spec for all waves: a wave's file carries the columns of its wave; the others stay empty.
SURVEY = FileSpec("survey", _SURVEY_COMMON + _SURVEY_SHARED_ITEMS + _PRE_ITEMS + _POST_ITEMS)
PRE_GRADUATION_ITEMS = tuple(c.name for c in _PRE_ITEMS)
SHARED_ITEMS = tuple(c.name for c in _SURVEY_SHARED_ITEMS)  # asked in every wave
POST_GRADUATION_ITEMS = tuple(c.name for c in _POST_ITEMS)

ADMIN = FileSpec(
    "admin",
    (
        Column("national_id", required=True),
        Column("employer_id"),
        Column("spell_start", "date", required=True),
        Column("spell_end", "date"),
        Column("contract_type", "code", required=True, codebook="admin_contract_type"),
        Column("part_time_pct", "decimal"),
        Column("nace_section", "code"),
        Column("monthly_earnings", "decimal"),
        Column("source", required=True),
        Column("extracted_on", "date", required=True),
    ),
)

# The Spanish Social Security (TGSS) extract: SEPE contract key and regime instead of contract_type.
ES_TGSS = FileSpec(
    "admin",
    (
        Column("national_id", required=True),
        Column("employer_id"),
        Column("spell_start", "date", required=True),
        Column("spell_end", "date"),
        Column("contract_key"),
        Column("regime", required=True),  # RG (general scheme) or RETA (self-employed)
        Column("part_time_pct", "decimal"),
        Column("nace_section", "code"),
        Column("monthly_earnings", "decimal"),
        Column("source", required=True),
        Column("extracted_on", "date", required=True),
    ),
)

# What the loader validates for every admin file after its adapter: the contract's columns, plus the
# source's own contract code where a source has one (the SEPE key and regime of es_tgss).
ADMIN_TYPED = FileSpec(
    "admin",
    (
        *ADMIN.columns,
        Column("contract_key"),
        Column("regime"),
    ),
)
# Sources whose own contract codes the loader maps to the contract's (docs/input-contract.md).
SOURCE_CODE_MAPS: tuple[str, ...] = ("es_tgss",)

CONTEXT = FileSpec(
    "context",
    (
        Column("region", required=True),
        Column("year", "int", required=True),
        Column("indicator", required=True),
        Column("value", "decimal", required=True),
        Column("source"),
    ),
)
