-- Every response of every wave (complete or not, linked or not) in one relation.
{% set waves = ['pre_graduation', 'm6', 'm18'] %}
{% for wave in waves %}
    select
        response_key,
        wave,
        response_id,
        school_code,
        started_at,
        submitted_at,
        is_complete,
        minutes_to_complete,
        language,
        relevant_skills,
        wish_learned_more,
        alumni_contribution,
        plan_after_graduation,
        prior_work_experience,
        perceived_opportunities_region,
        perceived_opportunities_sector,
        alumni_contact_consent,
        current_status,
        months_to_first_job,
        job_found_via,
        job_related_to_qualification,
        contract_type,
        working_time,
        unpaid_extra_hours,
        monthly_net_wage_band,
        job_seeking_while_employed,
        study_level,
        study_related_to_qualification,
        unemployment_reasons,
        had_job_since_graduation,
        expectations_met,
        _source_file,
        _source_line
    from {{ source('raw', 'survey_' ~ wave) }}
    {% if not loop.last %}union all{% endif %}
{% endfor %}
