{#- Answer codes of the contract that indicators are generated from (one indicator per code).
    They mirror ingestion/contract.py CODEBOOK; tests/test_indicators_catalogue.py checks that they agree. -#}
{% macro gradtrack_codes(item) -%}
    {%- set codebook = {
        'sex': ['F', 'M', 'X'],
        'plan_after_graduation': [
            'further_studies', 'work_and_study', 'work', 'self_employed', 'volunteering', 'undecided'
        ],
        'relevant_skills': [
            'teamwork', 'problem_solving', 'communication', 'technical', 'digital', 'languages',
            'entrepreneurship'
        ],
        'wish_learned_more': [
            'technical_skills', 'career_guidance', 'soft_skills', 'job_search', 'languages', 'more_practice'
        ],
        'alumni_contribution': ['mentoring', 'talks', 'placements', 'hiring', 'surveys', 'none'],
        'current_status': [
            'further_studies', 'work_and_study', 'work', 'self_employed', 'volunteering', 'unemployed',
            'inactive'
        ],
        'job_found_via': [
            'personal_contacts', 'placement_company', 'school', 'public_employment_service', 'job_portal',
            'self_application', 'temp_agency', 'other'
        ],
        'study_level': ['vet', 'university', 'other'],
        'unemployment_reasons': [
            'no_experience', 'few_offers', 'low_pay', 'qualification_mismatch', 'personal', 'other'
        ],
    } -%}
    {{ return(codebook[item]) }}
{%- endmacro %}
