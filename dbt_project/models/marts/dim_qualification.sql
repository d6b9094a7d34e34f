-- One row per qualification code of the register, with the attributes of the graduates who hold it
-- (the most frequent ones when schools describe the same code differently).
with graduates as (
    select * from {{ ref('stg_register__graduates') }}
),

attributes as (
    select
        qualification_code,
        qualification_name,
        eqf_level,
        professional_family,
        sector_group,
        row_number() over (
            partition by qualification_code
            order by count(*) desc, max(cohort) desc, qualification_name asc, professional_family asc
        ) as attribute_rank
    from graduates
    group by qualification_code, qualification_name, eqf_level, professional_family, sector_group
),

counts as (
    select
        qualification_code,
        count(distinct school_code) as schools,
        count(*) as graduates
    from graduates
    group by qualification_code
),

final as (
    select
        counts.qualification_code,
        attributes.qualification_name,
        attributes.eqf_level,
        attributes.professional_family,
        attributes.sector_group,
        counts.schools,
        counts.graduates
    from counts
    inner join attributes
        on counts.qualification_code = attributes.qualification_code and attributes.attribute_rank = 1
)

select * from final
