"""Human labels for the codes stored in the marts (indicators, waves, sources, statuses).

Reports show labels, not codes, so that a school reads "Response rate" rather than
``response_rate``. The strings are marked with ``N_`` (a no-op) so that
``pybabel extract -k N_`` collects them into the catalogue; they are translated at render
time with the page's translations.
"""

from __future__ import annotations

from collections.abc import Callable


def N_(message: str) -> str:
    """Mark a string for extraction without translating it (translation happens at render)."""
    return message


CODE_LABELS: dict[str, str] = {
    # waves
    "pre_graduation": N_("Before graduation"),
    "m6": N_("6 months after graduation"),
    "m18": N_("18 months after graduation"),
    # sources
    "survey": N_("survey"),
    "admin": N_("administrative records"),
    "combined": N_("survey, admin where not answered"),
    "survey_weighted": N_("survey, reweighted"),
    "register": N_("register of graduates"),
    # breakdowns
    "total": N_("Total"),
    "all": N_("All graduates"),
    "school": N_("School"),
    "country": N_("Country"),
    "region": N_("Region"),
    "sector_group": N_("Sector"),
    "professional_family": N_("Professional family"),
    "qualification": N_("Qualification"),
    "eqf_level": N_("EQF level"),
    "sex": N_("Sex"),
    # plans and statuses
    "work": N_("Work"),
    "work_and_study": N_("Work and study"),
    "further_studies": N_("Further studies"),
    "self_employed": N_("Self-employed"),
    "volunteering": N_("Volunteering"),
    "unemployed": N_("Unemployed"),
    "inactive": N_("Inactive"),
    "undecided": N_("Undecided"),
    # participation
    "graduates": N_("Graduates"),
    "share_women": N_("Women"),
    "response_rate": N_("Response rate"),
    "completion_rate": N_("Completion rate"),
    "median_minutes_to_complete": N_("Median minutes to complete"),
    "linked_across_waves_rate": N_("Responded before and after graduation"),
    # status
    "status_work": N_("Work"),
    "status_work_and_study": N_("Work and study"),
    "status_further_studies": N_("Further studies"),
    "status_self_employed": N_("Self-employed"),
    "status_volunteering": N_("Volunteering"),
    "status_unemployed": N_("Unemployed"),
    "status_inactive": N_("Inactive"),
    "employed_share": N_("Employed"),
    "studying_share": N_("Studying"),
    # job quality
    "job_related_to_qualification": N_("Job related to the qualification"),
    "job_partly_related_to_qualification": N_("Job partly related to the qualification"),
    "part_time_share": N_("Part-time"),
    "permanent_contract_share": N_("Permanent contract"),
    "wage_below_1000_share": N_("Monthly net wage below 1,000 €"),
    "jobseeking_while_employed_share": N_("Looking for another job"),
    "unpaid_extra_hours_share": N_("Unpaid extra hours"),
    "first_job_within_1_month": N_("First job within 1 month"),
    # further studies
    "study_related_to_qualification": N_("Studies related to the qualification"),
    "combining_work_and_study": N_("Combining work and study"),
    # unemployment
    "had_job_since_graduation": N_("Had a job since graduation"),
    # expectations
    "labour_market_expectations_met": N_("Labour-market expectations met"),
    "study_expectations_met": N_("Study expectations met"),
    "self_reported_expectations_met": N_("Expectations met (self-reported)"),
    "alumni_contact_consent": N_("Agreed to alumni contact"),
    # EQAVET and admin
    "eqavet5a_placement_rate": N_("Placement rate (EQAVET 5a)"),
    "eqavet5b_employment_rate": N_("Employment rate (EQAVET 5b)"),
    "eqavet6a_skills_utilisation": N_("Skills utilisation (EQAVET 6a)"),
    "admin_permanent_share": N_("Permanent contract (admin)"),
    "admin_part_time_share": N_("Part-time (admin)"),
    "admin_median_days_to_first_job": N_("Median days to first job (admin)"),
    "admin_share_of_months_employed": N_("Share of months employed (admin)"),
    "survey_admin_employment_agreement": N_("Survey and admin agree on employment"),
    "nonresponse_gap_employment": N_("Employment gap, respondents minus non-respondents"),
    # how the job was found
    "job_found_via_personal_contacts": N_("Personal contacts"),
    "job_found_via_placement_company": N_("Company of the work placement"),
    "job_found_via_school": N_("The school"),
    "job_found_via_public_employment_service": N_("Public employment service"),
    "job_found_via_job_portal": N_("Job portal"),
    "job_found_via_self_application": N_("Own application"),
    "job_found_via_temp_agency": N_("Temporary work agency"),
    "job_found_via_other": N_("Other way"),
    # reasons for unemployment
    "unemployment_reason_no_experience": N_("No work experience"),
    "unemployment_reason_few_offers": N_("Few job offers"),
    "unemployment_reason_low_pay": N_("Low pay offered"),
    "unemployment_reason_qualification_mismatch": N_("Offers do not match the qualification"),
    "unemployment_reason_personal": N_("Personal reasons"),
    "unemployment_reason_other": N_("Other reasons"),
    # skills developed
    "relevant_skill_teamwork": N_("Teamwork"),
    "relevant_skill_problem_solving": N_("Problem solving"),
    "relevant_skill_communication": N_("Communication"),
    "relevant_skill_technical": N_("Technical skills"),
    "relevant_skill_digital": N_("Digital skills"),
    "relevant_skill_languages": N_("Languages"),
    "relevant_skill_entrepreneurship": N_("Entrepreneurship"),
    # what graduates wish they had learned more about
    "wish_learned_more_technical_skills": N_("Technical skills (tools, software…)"),
    "wish_learned_more_career_guidance": N_("Career guidance"),
    "wish_learned_more_soft_skills": N_("Soft skills (communication, problem solving…)"),
    "wish_learned_more_job_search": N_("Job search techniques"),
    "wish_learned_more_languages": N_("Languages"),
    "wish_learned_more_more_practice": N_("More practice"),
    # alumni
    "alumni_contribution_mentoring": N_("Mentoring students"),
    "alumni_contribution_talks": N_("Giving talks"),
    "alumni_contribution_placements": N_("Offering work placements"),
    "alumni_contribution_hiring": N_("Hiring graduates"),
    "alumni_contribution_surveys": N_("Answering surveys"),
    "alumni_contribution_none": N_("None of these"),
    # study levels, sectors, sex
    "study_level_vet": N_("Vocational education (VET)"),
    "study_level_university": N_("University"),
    "study_level_other": N_("Other studies"),
    "industry": N_("Industry"),
    "services": N_("Services"),
    # context indicators (external statistics, context.indicators)
    "unemployment_rate_15_24": N_("Youth unemployment rate (15-24 years)"),
    "unemployment_rate_total": N_("Unemployment rate (all ages)"),
    "Eurostat lfst_r_lfu3rt": N_("Eurostat, unemployment rates by region (lfst_r_lfu3rt)"),
    "unknown": N_("Unknown"),
    "F": N_("Women"),
    "M": N_("Men"),
    "X": N_("Other"),
}

#: Names of the regions (NUTS 2) and countries the register uses, in their own language: a
#: reader knows "Principado de Asturias", not "ES12". Codes not listed are shown as they are.
REGION_NAMES: dict[str, str] = {
    "ES": "España",
    "ES11": "Galicia",
    "ES12": "Principado de Asturias",
    "ES13": "Cantabria",
    "ES21": "País Vasco",
    "ES30": "Comunidad de Madrid",
    "ES51": "Cataluña",
    "ES52": "Comunitat Valenciana",
    "ES61": "Andalucía",
    "EE": "Eesti",
    "EE00": "Eesti",
    "IT": "Italia",
    "ITC1": "Piemonte",
    "ITC4": "Lombardia",
    "ITH3": "Veneto",
    "ITH5": "Emilia-Romagna",
    "ITI4": "Lazio",
    "NL": "Nederland",
    "NL11": "Groningen",
    "NL12": "Friesland",
    "NL13": "Drenthe",
    "NL21": "Overijssel",
    "NL22": "Gelderland",
    "NL32": "Noord-Holland",
    "NL33": "Zuid-Holland",
    "NL41": "Noord-Brabant",
}

#: Indicators counted from the register of graduates, whatever ``source`` their row carries.
REGISTER_INDICATORS: frozenset[str] = frozenset({"graduates", "share_women"})

#: Order in which plans and statuses are listed (rows and columns of a flow).
STATUS_ORDER: tuple[str, ...] = (
    "work",
    "work_and_study",
    "self_employed",
    "further_studies",
    "volunteering",
    "unemployed",
    "inactive",
    "undecided",
)

#: Columns whose values are codes and are shown through :func:`label` by the components.
CODE_COLUMNS: frozenset[str] = frozenset(
    {
        "indicator",
        "wave",
        "source",
        "breakdown",
        "plan_after_graduation",
        "current_status",
    }
)


def humanize(code: str) -> str:
    """Fallback label for a code without an entry: ``job_found_via_school`` → ``Job found via school``."""
    text = code.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def label(code: object, gettext: Callable[[str], str], extra: dict[str, str] | None = None) -> str:
    """Label for ``code``: the page's own ``extra`` labels first, then the catalogue, then humanized."""
    if code is None:
        return ""
    key = str(code)
    if extra and key in extra:
        return str(extra[key])
    if key in CODE_LABELS:
        return gettext(CODE_LABELS[key])
    if key in REGION_NAMES:
        return REGION_NAMES[key]
    return humanize(key) if "_" in key and " " not in key else key


def region_name(code: object) -> str:
    """The name of a region or country code ("ES12" → "Principado de Asturias"), else the code."""
    return REGION_NAMES.get(str(code), "" if code is None else str(code))
