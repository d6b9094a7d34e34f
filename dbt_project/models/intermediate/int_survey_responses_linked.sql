-- Every survey response with the graduate it belongs to (null when unlinked), and which response
-- counts: per graduate and wave, the latest complete submission wins.
-- Interim: links on student_id + school_code only; the linkage models in restricted/ replace this.
with responses as (
    select * from {{ ref('stg_surveys__responses') }}
),

ids as (
    select * from {{ ref('stg_restricted__survey_identifiers') }}
),

register as (
    select * from {{ ref('stg_restricted__register_identifiers') }}
),

linked as (
    select
        responses.*,
        register.graduate_key,
        case when register.graduate_key is not null then 'student_id' else 'unlinked' end as link_method,
        case when register.graduate_key is not null then 1.0 end as link_score
    from responses
    inner join ids on responses.response_key = ids.response_key
    left join register
        on ids.school_code = register.school_code and ids.student_id = register.student_id
)

select
    *,
    coalesce(
        graduate_key is not null
        and is_complete
        and row_number() over (
            partition by graduate_key, wave, is_complete
            order by submitted_at desc, response_key desc
        ) = 1,
        false
    ) as is_respondent_record
from linked
