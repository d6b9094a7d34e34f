-- One row per graduate and post-graduation measurement point (m6, m18): the graduate's breakdown
-- attributes, the answers of the respondent record in that wave (null without a response) and the
-- plan given before graduation, the administrative status at the wave's reference date, and the
-- combined status.
-- Combined status precedence: the survey answer where the graduate responded and gave a
-- current_status; otherwise the admin status at the reference date (employed / not_employed) where
-- the graduate is in the admin base (national id and reference date observed by the extract);
-- otherwise unknown (null).
{%- set employed = "('work', 'work_and_study', 'self_employed')" %}
{%- set placed = "('work', 'work_and_study', 'self_employed', 'further_studies', 'volunteering')" %}
{%- set answers = [
    'current_status', 'months_to_first_job', 'job_found_via', 'job_related_to_qualification',
    'contract_type', 'working_time', 'unpaid_extra_hours', 'monthly_net_wage_band',
    'job_seeking_while_employed', 'study_level', 'study_related_to_qualification',
    'unemployment_reasons', 'had_job_since_graduation', 'expectations_met', 'relevant_skills',
    'wish_learned_more', 'alumni_contribution'
] %}

{%- set attributes = [
    'school_code', 'country', 'region', 'sector_group', 'professional_family', 'qualification_code',
    'eqf_level', 'sex'
] %}

with graduates as (
    select
        graduate_key,
        cohort,
        {%- for attribute in attributes %}
            {{ attribute }},
        {%- endfor %}
        has_admin_coverage,
        graduation_date,
        m6_reference_date,
        m18_reference_date
    from {{ ref('stg_register__graduates') }}
),

graduate_waves as (
    select
        graduate_key,
        cohort,
        {%- for attribute in attributes %}
            {{ attribute }},
        {%- endfor %}
        has_admin_coverage,
        graduation_date,
        'm6' as wave,
        m6_reference_date as reference_date
    from graduates
    union all
    select
        graduate_key,
        cohort,
        {%- for attribute in attributes %}
            {{ attribute }},
        {%- endfor %}
        has_admin_coverage,
        graduation_date,
        'm18' as wave,
        m18_reference_date as reference_date
    from graduates
),

respondent_records as (
    select
        graduate_key,
        wave,
        response_key,
        {%- for answer in answers %}
            {{ answer }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_survey_responses_linked') }}
    where is_respondent_record and wave in ('m6', 'm18')
),

pre_graduation_records as (
    select
        graduate_key,
        plan_after_graduation
    from {{ ref('int_survey_responses_linked') }}
    where is_respondent_record and wave = 'pre_graduation'
),

admin_status as (
    select * from {{ ref('int_graduate_admin_status') }}
),

joined as (
    select
        graduate_waves.graduate_key,
        graduate_waves.cohort,
        graduate_waves.wave,
        {%- for attribute in attributes %}
            graduate_waves.{{ attribute }},
        {%- endfor %}
        graduate_waves.graduation_date,
        graduate_waves.reference_date,
        respondent_records.response_key is not null as is_respondent,
        respondent_records.response_key,
        pre_graduation_records.graduate_key is not null as responded_pre_graduation,
        pre_graduation_records.plan_after_graduation as pre_graduation_plan,
        {%- for answer in answers %}
            respondent_records.{{ answer }},
        {%- endfor %}
        graduate_waves.has_admin_coverage,
        coalesce(admin_status.admin_observed, false) as in_admin_base,
        admin_status.admin_extracted_on,
        case when admin_status.admin_observed then admin_status.is_employed_at_reference_date end
            as admin_employed,
        case when admin_status.admin_observed then admin_status.contract_type end as admin_contract_type,
        case when admin_status.admin_observed then admin_status.part_time_pct end as admin_part_time_pct,
        case when admin_status.admin_observed then admin_status.is_part_time end as admin_is_part_time,
        case when admin_status.admin_observed then admin_status.nace_section end as admin_nace_section,
        case when admin_status.admin_observed then admin_status.covering_spell_key end as admin_spell_key,
        case when admin_status.admin_observed then admin_status.first_job_start end as admin_first_job_start,
        case when admin_status.admin_observed then admin_status.days_to_first_job end as days_to_first_job,
        case when admin_status.admin_observed then admin_status.months_employed end as months_employed,
        case when admin_status.admin_observed then admin_status.months_in_period end as months_in_period
    from graduate_waves
    left join respondent_records
        on
            graduate_waves.graduate_key = respondent_records.graduate_key
            and graduate_waves.wave = respondent_records.wave
    left join pre_graduation_records
        on graduate_waves.graduate_key = pre_graduation_records.graduate_key
    left join admin_status
        on
            graduate_waves.graduate_key = admin_status.graduate_key
            and graduate_waves.wave = admin_status.wave
),

final as (
    select
        *,
        case when current_status is not null then current_status in {{ employed }} end as survey_employed,
        case when current_status is not null then current_status in {{ placed }} end as survey_placed,
        case
            when months_in_period > 0 then cast(months_employed as {{ gt_type_double() }}) / months_in_period
        end as share_of_months_employed,
        case
            when current_status is not null then current_status
            when admin_employed then 'employed'
            when not admin_employed then 'not_employed'
        end as combined_status,
        case
            when current_status is not null then 'survey'
            when admin_employed is not null then 'admin'
        end as combined_status_source,
        case
            when current_status is not null then current_status in {{ employed }}
            else admin_employed
        end as combined_employed,
        case
            when current_status is not null and admin_employed is not null
                then (current_status in {{ employed }}) = admin_employed
        end as survey_admin_agree
    from joined
)

select * from final
where {{ in_run_cohorts() }}
