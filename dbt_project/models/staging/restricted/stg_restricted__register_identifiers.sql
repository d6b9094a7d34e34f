-- Identifiers of the register, for linkage only (schema restricted).
select
    graduate_key,
    school_code,
    cohort,
    student_id,
    national_id,
    token,
    first_name_norm,
    last_name_norm,
    birth_date,
    email_norm
from {{ source('restricted', 'register_identifiers') }}
