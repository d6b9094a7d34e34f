-- Plans before graduation against the situation after: for each cohort, post-graduation wave and
-- breakdown group, the respondents of the wave who answered both plan_after_graduation (in the
-- pre_graduation wave) and current_status, counted per plan x status (every combination of the
-- codebook, zeros included, so a Sankey or heat map can be drawn directly). share_of_plan is the
-- share of those with that plan now in that status. suppressed: fewer respondents with that plan
-- in the group than var('suppression_threshold').
{%- set breakdown_columns = indicator_breakdown_columns() %}
{%- set breakdowns = indicator_breakdowns() %}
{%- set grouping_sets = [] %}
{%- for breakdown in breakdowns %}
    {%- do grouping_sets.append(
        ['cohort', 'wave', 'pre_graduation_plan', 'current_status']
        + ([breakdown_columns[breakdown]] if breakdown != 'total' else [])) %}
{%- endfor %}

with respondents as (
    select
        cohort,
        wave,
        school_code,
        country,
        coalesce(region, 'unknown') as region,
        sector_group,
        professional_family,
        qualification_code,
        cast(eqf_level as {{ dbt.type_string() }}) as eqf_level,
        sex,
        pre_graduation_plan,
        current_status
    from {{ ref('fct_graduate_outcomes') }}
    where
        is_respondent
        and pre_graduation_plan is not null
        and current_status is not null
),

counts as (
    select
        cohort,
        wave,
        {{ indicator_breakdown_label(breakdowns, breakdown_columns) }},
        pre_graduation_plan,
        current_status,
        count(*) as graduates
    from respondents
    -- sqlfluff's DuckDB dialect cannot parse GROUPING SETS (see gt_group_by_grouping_sets)
    {{ gt_group_by_grouping_sets(grouping_sets) }}  -- noqa: PRS
),

groups as (
    select distinct
        cohort,
        wave,
        breakdown,
        breakdown_value
    from counts
    where breakdown_value is not null
),

plans as (
    {%- for plan in gradtrack_codes('plan_after_graduation') %}
        select '{{ plan }}' as plan_after_graduation
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

statuses as (
    {%- for status in gradtrack_codes('current_status') %}
        select '{{ status }}' as current_status
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

grid as (
    select
        groups.cohort,
        groups.wave,
        groups.breakdown,
        groups.breakdown_value,
        plans.plan_after_graduation,
        statuses.current_status,
        coalesce(counts.graduates, 0) as graduates
    from groups
    cross join plans
    cross join statuses
    left join counts
        on
            groups.cohort = counts.cohort
            and groups.wave = counts.wave
            and groups.breakdown = counts.breakdown
            and groups.breakdown_value = counts.breakdown_value
            and plans.plan_after_graduation = counts.pre_graduation_plan
            and statuses.current_status = counts.current_status
),

final as (
    select
        cast(cohort as integer) as cohort,
        cast(wave as {{ dbt.type_string() }}) as wave,
        cast(breakdown as {{ dbt.type_string() }}) as breakdown,
        cast(breakdown_value as {{ dbt.type_string() }}) as breakdown_value,
        cast(plan_after_graduation as {{ dbt.type_string() }}) as plan_after_graduation,
        cast(current_status as {{ dbt.type_string() }}) as current_status,
        cast(graduates as {{ dbt.type_bigint() }}) as graduates,
        cast(sum(graduates) over (
            partition by cohort, wave, breakdown, breakdown_value, plan_after_graduation
        ) as {{ dbt.type_bigint() }}) as plan_total,
        cast(sum(graduates) over (
            partition by cohort, wave, breakdown, breakdown_value
        ) as {{ dbt.type_bigint() }}) as group_total
    from grid
)

select
    *,
    case when plan_total > 0 then cast(graduates as {{ gt_type_double() }}) / plan_total end as share_of_plan,
    plan_total < {{ var('suppression_threshold') }} as suppressed
from final
where {{ in_run_cohorts() }}
