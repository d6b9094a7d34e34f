-- Identifiers respondents gave, for linkage only (schema restricted).
select
    response_key,
    wave,
    school_code,
    token,
    student_id,
    national_id,
    first_name_norm,
    last_name_norm,
    birth_date,
    email_norm
from {{ source('restricted', 'survey_identifiers') }}
