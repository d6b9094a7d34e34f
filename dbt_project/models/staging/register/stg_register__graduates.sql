-- One row per graduate of the register, with the reference dates of the post-graduation waves.
with source as (
    select * from {{ source('raw', 'register') }}
)

select
    graduate_key,
    person_key,
    person_key is not null as has_admin_coverage,
    school_code,
    school_name,
    country,
    region,
    sex,
    qualification_code,
    qualification_name,
    eqf_level,
    professional_family,
    sector_group,
    cohort,
    graduation_date,
    cast({{ dbt.dateadd('month', 6, 'graduation_date') }} as date) as m6_reference_date,
    cast({{ dbt.dateadd('month', 18, 'graduation_date') }} as date) as m18_reference_date,
    language,
    birth_year,
    _source_file,
    _source_line
from source
