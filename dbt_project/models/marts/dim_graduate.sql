-- One row per graduate of the register, pseudonymised: the keyed graduate_key and the attributes
-- indicators are broken down by, never a name, an identifier or a contact.
-- Whether a graduate responded in a wave is in fct_graduate_outcomes (is_respondent,
-- responded_pre_graduation) and fct_survey_responses.
with graduates as (
    select * from {{ ref('stg_register__graduates') }}
),

final as (
    select
        graduates.graduate_key,
        graduates.cohort,
        graduates.school_code,
        graduates.country,
        graduates.region,
        graduates.qualification_code,
        graduates.eqf_level,
        graduates.professional_family,
        graduates.sector_group,
        graduates.sex,
        graduates.graduation_date,
        graduates.m6_reference_date,
        graduates.m18_reference_date,
        graduates.language,
        graduates.has_admin_coverage
    from graduates
)

select * from final
where {{ in_run_cohorts() }}
