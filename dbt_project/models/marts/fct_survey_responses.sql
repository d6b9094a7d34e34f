-- Every survey response of every wave (complete or not, linked or not), pseudonymised: the graduate
-- it was linked to (graduate_key, null when unlinked), how it was linked, the cohort and breakdown
-- attributes it counts for, paradata and the canonical answers. No identifier a respondent typed is
-- here.
-- Cohort and attributes: a linked response has its graduate's. An unlinked response belongs to the
-- cohort whose fieldwork date for that wave (pre_graduation: 3 months before, m6 / m18: 6 / 18 months
-- after the cohort's first graduation date) is nearest to when it was started (or submitted), among
-- the cohorts of the school it names when the register knows that school; its school is the school
-- it names when that school has graduates in that cohort (with the school's country, and its region
-- when all its graduates share one); its other attributes are unknown. A response linked to a
-- graduate of a cohort outside this build, or unlinked without any timestamp, has no cohort.
{%- set answers = [
    'plan_after_graduation', 'prior_work_experience', 'perceived_opportunities_region',
    'perceived_opportunities_sector', 'alumni_contact_consent', 'current_status', 'months_to_first_job',
    'job_found_via', 'job_related_to_qualification', 'contract_type', 'working_time',
    'unpaid_extra_hours', 'monthly_net_wage_band', 'job_seeking_while_employed', 'study_level',
    'study_related_to_qualification', 'unemployment_reasons', 'had_job_since_graduation',
    'expectations_met', 'relevant_skills', 'wish_learned_more', 'alumni_contribution'
] %}
{%- set attributes = [
    'school_code', 'country', 'region', 'sector_group', 'professional_family', 'qualification_code',
    'eqf_level', 'sex'
] %}

with graduates as (
    select
        graduate_key,
        cohort,
        school_code,
        country,
        region,
        sector_group,
        professional_family,
        qualification_code,
        eqf_level,
        sex,
        graduation_date
    from {{ ref('stg_register__graduates') }}
),

school_cohorts as (
    select
        school_code,
        cohort,
        min(country) as country,
        case when count(distinct coalesce(region, '')) = 1 then min(region) end as region
    from graduates
    group by school_code, cohort
),

known_schools as (
    select distinct school_code
    from graduates
),

cohort_fieldwork as (
    {%- for wave, months in [('pre_graduation', -3), ('m6', 6), ('m18', 18)] %}
        select
            cohort,
            '{{ wave }}' as wave,
            cast({{ dbt.dateadd('month', months, 'min(graduation_date)') }} as date) as fieldwork_date
        from graduates
        group by cohort
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

unlinked_candidates as (
    select
        responses.response_key,
        cohort_fieldwork.cohort,
        school_cohorts.school_code,
        school_cohorts.country,
        school_cohorts.region,
        row_number() over (
            partition by responses.response_key
            order by
                abs({{ dbt.datediff(
                    'cohort_fieldwork.fieldwork_date',
                    'cast(coalesce(responses.started_at, responses.submitted_at) as date)',
                    'day'
                ) }}) asc,
                cohort_fieldwork.cohort desc
        ) as candidate_rank
    from {{ ref('int_survey_responses_linked') }} as responses
    inner join cohort_fieldwork on responses.wave = cohort_fieldwork.wave
    left join known_schools on responses.school_code = known_schools.school_code
    left join school_cohorts
        on
            responses.school_code = school_cohorts.school_code
            and cohort_fieldwork.cohort = school_cohorts.cohort
    where
        responses.graduate_key is null
        and coalesce(responses.started_at, responses.submitted_at) is not null
        and (known_schools.school_code is null or school_cohorts.cohort is not null)
),

unlinked as (
    select
        response_key,
        cohort,
        school_code,
        country,
        region
    from unlinked_candidates
    where candidate_rank = 1
),

{%- set shared_columns %}
        responses.response_key,
        responses.wave,
        responses.graduate_key,
        cast(responses.link_method as {{ dbt.type_string() }}) as link_method,
        cast(responses.link_score as {{ gt_type_double() }}) as link_score,
{%- endset %}
{%- set paradata_and_answers = [
    'is_complete', 'is_respondent_record', 'started_at', 'submitted_at', 'minutes_to_complete', 'language'
] + answers %}

-- linked responses (and responses linked to a graduate outside this build: no cohort)
linked as (
    select
        {{- shared_columns }}
        graduates.cohort,
        {%- for attribute in attributes %}
            graduates.{{ attribute }},
        {%- endfor %}
        case when graduates.graduate_key is not null then 'linked' end as attribution,
        {%- for column in paradata_and_answers %}
            responses.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_survey_responses_linked') }} as responses
    left join graduates on responses.graduate_key = graduates.graduate_key
    where responses.graduate_key is not null
),

unlinked_responses as (
    select
        {{- shared_columns }}
        unlinked.cohort,
        {%- for attribute in attributes %}
            {%- if attribute in ['school_code', 'country', 'region'] %}
                unlinked.{{ attribute }},
            {%- elif attribute == 'eqf_level' %}
                cast(null as integer) as {{ attribute }},
            {%- else %}
                cast(null as {{ dbt.type_string() }}) as {{ attribute }},
            {%- endif %}
        {%- endfor %}
        case when unlinked.cohort is not null then 'nearest_fieldwork' end as attribution,
        {%- for column in paradata_and_answers %}
            responses.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_survey_responses_linked') }} as responses
    left join unlinked on responses.response_key = unlinked.response_key
    where responses.graduate_key is null
),

final as (
    select * from linked
    union all
    select * from unlinked_responses
)

select * from final
where {{ in_run_cohorts() }}
