{{ config(materialized='view') }}
-- The one wide relation every indicator is computed from, with two kinds of rows:
--   graduate rows (is_graduate_row): one per graduate of the register and wave (pre_graduation, m6,
--     m18) with the breakdown attributes, the answers of the graduate's respondent record in the wave,
--     the plan given before graduation, the admin status at the wave's reference date and the raking
--     weight of the graduate's cell (respondents with a current_status only);
--   response rows (is_response): one per response of the wave (complete or not, linked or not,
--     attributed to a cohort), for the paradata indicators (completion rate, minutes to complete).
-- Breakdown attributes missing in the register (region is optional) read 'unknown'; an unlinked
-- response has only the school it names (and that school's country and region); responses without a
-- cohort (fct_survey_responses) are left out.
{%- set answers = [
    'plan_after_graduation', 'current_status', 'months_to_first_job', 'job_found_via',
    'job_related_to_qualification', 'contract_type', 'working_time', 'unpaid_extra_hours',
    'monthly_net_wage_band', 'job_seeking_while_employed', 'study_level',
    'study_related_to_qualification', 'unemployment_reasons', 'had_job_since_graduation',
    'expectations_met', 'relevant_skills', 'wish_learned_more', 'alumni_contact_consent',
    'alumni_contribution'
] %}
{%- set post_answers = [
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

with weights as (
    select
        cohort,
        wave,
        school_code,
        sex,
        sector_group,
        admin_status,
        survey_weight
    from {{ ref('int_raking_weights') }}
),

-- m6 and m18: the outcomes fact already holds answers, plan and admin status per graduate and wave
post_graduation_rows as (
    select
        outcomes.cohort,
        outcomes.wave,
        outcomes.graduate_key,
        outcomes.school_code,
        outcomes.country,
        coalesce(outcomes.region, 'unknown') as region,
        outcomes.sector_group,
        outcomes.professional_family,
        outcomes.qualification_code,
        cast(outcomes.eqf_level as {{ dbt.type_string() }}) as eqf_level,
        outcomes.sex,
        true as is_graduate_row,
        false as is_response,
        false as is_complete_response,
        cast(null as {{ gt_type_double() }}) as minutes_to_complete,
        outcomes.is_respondent,
        outcomes.responded_pre_graduation,
        outcomes.pre_graduation_plan,
        {%- for answer in answers %}
            {%- if answer in post_answers %}
                outcomes.{{ answer }},
            {%- else %}
                cast(null as {{ dbt.type_string() }}) as {{ answer }},
            {%- endif %}
        {%- endfor %}
        outcomes.in_admin_base,
        outcomes.admin_employed,
        outcomes.admin_contract_type,
        outcomes.admin_is_part_time,
        outcomes.days_to_first_job,
        outcomes.months_employed,
        outcomes.months_in_period,
        case
            when outcomes.is_respondent and outcomes.current_status is not null then weights.survey_weight
        end as survey_weight
    from {{ ref('fct_graduate_outcomes') }} as outcomes
    left join weights
        on
            outcomes.cohort = weights.cohort
            and outcomes.wave = weights.wave
            and outcomes.school_code = weights.school_code
            and outcomes.sex = weights.sex
            and outcomes.sector_group = weights.sector_group
            and {{ raking_admin_status('outcomes.in_admin_base', 'outcomes.admin_employed') }}
            = weights.admin_status
),

pre_graduation_records as (
    select
        graduate_key,
        {%- for answer in answers %}
            {{ answer }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_survey_responses_linked') }}
    where is_respondent_record and wave = 'pre_graduation'
),

pre_graduation_rows as (
    select
        register.cohort,
        'pre_graduation' as wave,
        register.graduate_key,
        register.school_code,
        register.country,
        coalesce(register.region, 'unknown') as region,
        register.sector_group,
        register.professional_family,
        register.qualification_code,
        cast(register.eqf_level as {{ dbt.type_string() }}) as eqf_level,
        register.sex,
        true as is_graduate_row,
        false as is_response,
        false as is_complete_response,
        cast(null as {{ gt_type_double() }}) as minutes_to_complete,
        records.graduate_key is not null as is_respondent,
        records.graduate_key is not null as responded_pre_graduation,
        records.plan_after_graduation as pre_graduation_plan,
        {%- for answer in answers %}
            records.{{ answer }},
        {%- endfor %}
        false as in_admin_base,
        cast(null as boolean) as admin_employed,
        cast(null as {{ dbt.type_string() }}) as admin_contract_type,
        cast(null as boolean) as admin_is_part_time,
        cast(null as {{ dbt.type_bigint() }}) as days_to_first_job,
        cast(null as {{ dbt.type_bigint() }}) as months_employed,
        cast(null as integer) as months_in_period,
        cast(null as {{ gt_type_double() }}) as survey_weight
    from {{ ref('stg_register__graduates') }} as register
    left join pre_graduation_records as records on register.graduate_key = records.graduate_key
),

response_rows as (
    select
        cohort,
        wave,
        graduate_key,
        school_code,
        country,
        coalesce(region, 'unknown') as region,
        sector_group,
        professional_family,
        qualification_code,
        cast(eqf_level as {{ dbt.type_string() }}) as eqf_level,
        sex,
        false as is_graduate_row,
        true as is_response,
        is_complete as is_complete_response,
        minutes_to_complete,
        false as is_respondent,
        false as responded_pre_graduation,
        cast(null as {{ dbt.type_string() }}) as pre_graduation_plan,
        {%- for answer in answers %}
            cast(null as {{ dbt.type_string() }}) as {{ answer }},
        {%- endfor %}
        false as in_admin_base,
        cast(null as boolean) as admin_employed,
        cast(null as {{ dbt.type_string() }}) as admin_contract_type,
        cast(null as boolean) as admin_is_part_time,
        cast(null as {{ dbt.type_bigint() }}) as days_to_first_job,
        cast(null as {{ dbt.type_bigint() }}) as months_employed,
        cast(null as integer) as months_in_period,
        cast(null as {{ gt_type_double() }}) as survey_weight
    from {{ ref('fct_survey_responses') }}
    where cohort is not null
),

final as (
    select * from post_graduation_rows
    union all
    select * from pre_graduation_rows
    union all
    select * from response_rows
)

select * from final
