-- One row per survey response: the identifiers the respondent gave (trimmed and normalised by
-- ingestion), a row number the approximate matching joins on instead of the 32-character key, and the
-- graduation month the response implies (its start time shifted by the wave's offset), which sets the
-- cohort window.
with identifiers as (
    select * from {{ ref('stg_restricted__survey_identifiers') }}
),

responses as (
    select
        response_key,
        coalesce(started_at, submitted_at) as responded_at
    from {{ ref('stg_surveys__responses') }}
)

select
    identifiers.response_key,
    row_number() over () as response_number,
    identifiers.wave,
    identifiers.school_code,
    nullif(trim(identifiers.token), '') as token,
    identifiers.student_id,
    identifiers.national_id,
    identifiers.first_name_norm,
    identifiers.last_name_norm,
    identifiers.birth_date,
    identifiers.email_norm,
    {{ linkage_implied_graduation_month('identifiers.wave', 'responses.responded_at') }}
        as implied_graduation_month
from identifiers
left join responses on identifiers.response_key = responses.response_key
