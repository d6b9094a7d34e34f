{{ config(materialized='view') }}
-- Administrative employment status of each graduate with admin coverage (a national id) at the
-- reference date of each post-graduation wave (m6, m18), from the employment spells linked by
-- person_key (equi-join). A spell covers a date d when spell_start <= d and (spell_end is null or
-- spell_end >= d). Where several spells cover the date, the longest-running one (longest
-- spell_end-or-extraction minus spell_start; then the earliest start; then spell_key) gives the
-- contract type, working time and NACE section.
-- Months employed: month k (k = 1 .. 6 or 18) counts when a spell covers the monthly anniversary
-- graduation_date + k months (the last one is the reference date). Each spell covers a contiguous
-- range of anniversaries [first_month, last_month], found with two month differences; the ranges of a
-- graduate's spells are OR-ed as bit masks (bit k = month k) so overlapping spells count once.
-- A date is observed only up to the admin extraction date of the graduate's cohort and country (the
-- latest extracted_on of the spells of graduates of that cohort and country): beyond it an open spell
-- says nothing, and a cohort and country without any spell has no admin data at all (e.g. a country
-- whose register has national ids but whose admin extract was not delivered). Where not observed,
-- admin_observed is false and the graduate is outside the admin base of that wave.
-- All spells of a graduate are aggregated in one pass (one row per graduate), then split by wave.
-- A view: fct_graduate_outcomes is its only consumer and materialises the result.
{%- set waves = [('m6', 6), ('m18', 18)] %}

with graduates as (
    select
        graduate_key,
        person_key,
        cohort,
        country,
        graduation_date,
        m6_reference_date,
        m18_reference_date
    from {{ ref('stg_register__graduates') }}
    where has_admin_coverage
),

graduate_spells as (
    select
        graduates.graduate_key,
        graduates.cohort,
        graduates.country,
        graduates.graduation_date,
        graduates.m6_reference_date,
        graduates.m18_reference_date,
        spells.spell_key,
        spells.spell_start,
        spells.spell_end,
        spells.contract_type,
        spells.part_time_pct,
        spells.nace_section,
        spells.extracted_on,
        -- longest-running first, then earliest start, then spell_key (a unique, sortable text key)
        lpad(
            cast(
                {{ dbt.datediff('spells.spell_start', 'spells.spell_end_or_extraction', 'day') }}
                as {{ dbt.type_string() }}
            ),
            7,
            '0'
        )
        || lpad(
            cast(
                99999 - {{ dbt.datediff("cast('1900-01-01' as date)", 'spells.spell_start', 'day') }}
                as {{ dbt.type_string() }}
            ),
            6,
            '0'
        )
        || spells.spell_key as spell_rank_key,
        {{ dbt.datediff('graduates.graduation_date', 'spells.spell_start', 'month') }}
            as start_month,
        {{ dbt.datediff('graduates.graduation_date', 'spells.spell_end', 'month') }}
            as end_month
    from graduates
    inner join {{ ref('stg_admin__employment_spells') }} as spells
        on graduates.person_key = spells.person_key
),

spell_months as (
    select
        *,
        greatest(
            case
                when cast({{ dbt.dateadd('month', 'start_month', 'graduation_date') }} as date) >= spell_start
                    then start_month
                else start_month + 1
            end,
            1
        ) as first_month,
        least(
            case
                when spell_end is null then 18
                when cast({{ dbt.dateadd('month', 'end_month', 'graduation_date') }} as date) <= spell_end
                    then end_month
                else end_month - 1
            end,
            18
        ) as last_month
    from graduate_spells
),

per_graduate as (
    select
        graduate_key,
        {{ gt_bit_or_agg(gt_bit_range_mask('first_month', 'last_month')) }} as months_mask,
        {%- for wave, months in waves %}
            {%- set covers = 'spell_start <= ' ~ wave ~ '_reference_date'
                ~ ' and (spell_end is null or spell_end >= ' ~ wave ~ '_reference_date)' %}
            {%- set rank = 'case when ' ~ covers ~ ' then spell_rank_key end' %}
            {{ gt_arg_max('spell_key', rank) }} as {{ wave }}_spell_key,
            {{ gt_arg_max('contract_type', rank) }} as {{ wave }}_contract_type,
            {{ gt_arg_max('part_time_pct', rank) }} as {{ wave }}_part_time_pct,
            {{ gt_arg_max('nace_section', rank) }} as {{ wave }}_nace_section,
            min(
                case
                    when spell_start >= graduation_date and spell_start <= {{ wave }}_reference_date
                        then spell_start
                end
            ) as {{ wave }}_first_job_start,
        {%- endfor %}
        count(*) as spells
    from spell_months
    group by graduate_key
),

extractions as (
    select
        cohort,
        country,
        max(extracted_on) as admin_extracted_on
    from graduate_spells
    group by cohort, country
),

final as (
    {%- for wave, months in waves %}
        {%- set first_job_start = 'per_graduate.' ~ wave ~ '_first_job_start' %}
        select
            graduates.graduate_key,
            '{{ wave }}' as wave,
            graduates.{{ wave }}_reference_date as reference_date,
            extractions.admin_extracted_on,
            coalesce(graduates.{{ wave }}_reference_date <= extractions.admin_extracted_on, false)
                as admin_observed,
            per_graduate.{{ wave }}_spell_key is not null as is_employed_at_reference_date,
            per_graduate.{{ wave }}_spell_key as covering_spell_key,
            per_graduate.{{ wave }}_contract_type as contract_type,
            per_graduate.{{ wave }}_part_time_pct as part_time_pct,
            coalesce(per_graduate.{{ wave }}_part_time_pct, 100) < 100 as is_part_time,
            per_graduate.{{ wave }}_nace_section as nace_section,
            per_graduate.{{ wave }}_first_job_start as first_job_start,
            {{ dbt.datediff('graduates.graduation_date', first_job_start, 'day') }}
                as days_to_first_job,
            cast(
                coalesce({{ gt_count_bits('per_graduate.months_mask', 1, months) }}, 0)
                as {{ dbt.type_bigint() }}
            ) as months_employed,
            {{ months }} as months_in_period
        from graduates
        left join per_graduate on graduates.graduate_key = per_graduate.graduate_key
        left join extractions
            on graduates.cohort = extractions.cohort and graduates.country = extractions.country
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select * from final
