-- Administrative employment spells of the graduates of the register (equi-join on person_key), one
-- row per spell and graduate (a person who graduated twice has their spells under both graduates).
-- Spells of people who are not graduates of the register are not published.
with graduates as (
    select
        graduate_key,
        person_key
    from {{ ref('stg_register__graduates') }}
    where has_admin_coverage
),

spells as (
    select * from {{ ref('stg_admin__employment_spells') }}
),

final as (
    select
        spells.spell_key,
        graduates.graduate_key,
        spells.employer_key,
        spells.spell_start,
        spells.spell_end,
        spells.spell_end_or_extraction,
        spells.contract_type,
        spells.source_contract_code,
        spells.part_time_pct,
        spells.nace_section,
        spells.monthly_earnings,
        spells.source,
        spells.extracted_on,
        coalesce(spells.part_time_pct, 100) < 100 as is_part_time
    from spells
    inner join graduates on spells.person_key = graduates.person_key
)

select * from final
