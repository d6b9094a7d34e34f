-- One row per school of the register. Name and region are the ones of the school's latest cohort
-- (the most frequent among its graduates when they differ).
with graduates as (
    select * from {{ ref('stg_register__graduates') }}
),

attributes as (
    select
        school_code,
        school_name,
        country,
        region,
        row_number() over (
            partition by school_code
            order by max(cohort) desc, count(*) desc, school_name asc, region asc
        ) as attribute_rank
    from graduates
    group by school_code, school_name, country, region
),

counts as (
    select
        school_code,
        min(cohort) as first_cohort,
        max(cohort) as last_cohort,
        count(*) as graduates
    from graduates
    group by school_code
),

final as (
    select
        counts.school_code,
        attributes.school_name,
        attributes.country,
        attributes.region,
        counts.first_cohort,
        counts.last_cohort,
        counts.graduates
    from counts
    inner join attributes
        on counts.school_code = attributes.school_code and attributes.attribute_rank = 1
)

select * from final
