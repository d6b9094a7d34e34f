-- One row per graduate of the register with the identifiers linkage compares, and a row number that
-- the approximate matching joins on instead of the 64-character key. Ingestion has already trimmed
-- every value, normalised names, e-mails and national ids, and upper-cased school codes.
-- Column order is the table's interface (graduate_number next to the key it stands for): noqa ST06.
select  -- noqa: ST06
    graduate_key,
    row_number() over () as graduate_number,
    school_code,
    cohort,
    student_id,
    national_id,
    nullif(trim(token), '') as token,
    first_name_norm,
    last_name_norm,
    birth_date,
    email_norm
from {{ ref('stg_restricted__register_identifiers') }}
