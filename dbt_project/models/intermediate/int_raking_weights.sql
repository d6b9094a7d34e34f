-- Non-response weights of the respondents of each post-graduation wave (those who gave a
-- current_status), by raking (iterative proportional fitting) to the register margins school,
-- sex and sector_group, and to the admin employment status at the reference date of the whole
-- cohort (employed / not_employed / not_covered: graduates outside the admin base form their own
-- category, so where admin data do not cover a cohort that margin is the cohort total and changes
-- nothing).
--
-- Set-based: respondents with the same school, sex, sector_group and admin status always get the
-- same weight, so the fitting runs on those cells (a few hundred rows at national scale); the output
-- is one row per cell, and a respondent's weight is the weight of its cell (int_indicator_base joins
-- it on the cell attributes). Starting weight N / n; each iteration adjusts
-- the weights to each margin in turn, w <- w * target / (weighted respondents of the category);
-- var('raking_iterations') iterations are unrolled with Jinja. A category without respondents cannot
-- be represented: it is left out of its margin and the margin's other targets are scaled up to the
-- cohort total so that all margins stay consistent. raking_max_relative_error reports, after the
-- last iteration, the largest |weighted respondents - target| / target over all categories of all
-- margins (0 once converged; docs/indicators.md).
{%- set margins = ['school_code', 'sex', 'sector_group', 'admin_status'] %}
{%- set iterations = var('raking_iterations', 50) | int %}
{%- set cell_columns = ['cohort', 'wave'] + margins + ['respondents'] %}
{%- set target_columns = [] %}
{%- for margin in margins %}{% do target_columns.append('target_' ~ margin) %}{% endfor %}

with population as (
    select
        outcomes.graduate_key,
        outcomes.cohort,
        outcomes.wave,
        outcomes.school_code,
        outcomes.sex,
        outcomes.sector_group,
        {{ raking_admin_status('outcomes.in_admin_base', 'outcomes.admin_employed') }} as admin_status,
        outcomes.is_respondent and outcomes.current_status is not null as is_rakeable
    from {{ ref('fct_graduate_outcomes') }} as outcomes
    where {{ in_run_cohorts('outcomes.cohort') }}
),

totals as (
    select
        cohort,
        wave,
        count(*) as population,
        {{ gt_count_true('is_rakeable') }} as respondents
    from population
    group by cohort, wave
    having {{ gt_count_true('is_rakeable') }} > 0
),

cells as (
    select
        cohort,
        wave,
        {%- for margin in margins %}
            {{ margin }},
        {%- endfor %}
        {{ gt_count_true('is_rakeable') }} as respondents
    from population
    group by
        {%- for column in ['cohort', 'wave'] + margins %}
            {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    having {{ gt_count_true('is_rakeable') }} > 0
),

{%- for margin in margins %}

    {{ margin }}_population as (
        select
            cohort,
            wave,
            {{ margin }},
            count(*) as population
        from population
        group by cohort, wave, {{ margin }}
    ),

    {{ margin }}_represented as (
        select distinct
            cohort,
            wave,
            {{ margin }}
        from cells
    ),

    {{ margin }}_targets as (
        select
            margin_population.cohort,
            margin_population.wave,
            margin_population.{{ margin }},
            cast(margin_population.population as {{ gt_type_double() }}) * totals.population
            / sum(margin_population.population) over (
                partition by margin_population.cohort, margin_population.wave
            ) as target
        from {{ margin }}_population as margin_population
        inner join {{ margin }}_represented as represented
            on
                margin_population.cohort = represented.cohort
                and margin_population.wave = represented.wave
                and margin_population.{{ margin }} = represented.{{ margin }}
        inner join totals
            on margin_population.cohort = totals.cohort and margin_population.wave = totals.wave
    ),
{%- endfor %}

step_0 as (
    select
        cells.cohort,
        cells.wave,
        {%- for margin in margins %}
            cells.{{ margin }},
        {%- endfor %}
        cells.respondents,
        {%- for margin in margins %}
            {{ margin }}_targets.target as target_{{ margin }},
        {%- endfor %}
        cast(totals.population as {{ gt_type_double() }}) / totals.respondents as weight
    from cells
    inner join totals on cells.cohort = totals.cohort and cells.wave = totals.wave
    {%- for margin in margins %}
        inner join {{ margin }}_targets
            on
                cells.cohort = {{ margin }}_targets.cohort
                and cells.wave = {{ margin }}_targets.wave
                and cells.{{ margin }} = {{ margin }}_targets.{{ margin }}
    {%- endfor %}
),
{%- set step = namespace(n=0) %}
{%- for iteration in range(iterations) %}
    {%- for margin in margins %}
        {%- set step.n = step.n + 1 %}

        -- iteration {{ iteration + 1 }}, margin {{ margin }}
        step_{{ step.n }} as (
            select
                {%- for column in cell_columns + target_columns %}
                    {{ column }},
                {%- endfor %}
                weight * target_{{ margin }} / sum(respondents * weight) over (
                    partition by cohort, wave, {{ margin }}
                ) as weight
            from step_{{ step.n - 1 }}
        ),
    {%- endfor %}
{%- endfor %}

fitted as (
    select * from step_{{ step.n }}
),

{%- for margin in margins %}

    {{ margin }}_fit as (
        select
            cohort,
            wave,
            {{ margin }},
            max(target_{{ margin }}) as target,
            sum(respondents * weight) as weighted
        from fitted
        group by cohort, wave, {{ margin }}
    ),

    {{ margin }}_error as (
        select
            cohort,
            wave,
            max(abs(weighted - target) / target) as relative_error
        from {{ margin }}_fit
        group by cohort, wave
    ),
{%- endfor %}

convergence as (
    select
        totals.cohort,
        totals.wave,
        {%- set errors = [] %}
        {%- for margin in margins %}
            {%- do errors.append('coalesce(' ~ margin ~ '_error.relative_error, 0)') %}
        {%- endfor %}
        {{ gt_round('greatest(' ~ (errors | join(', ')) ~ ')', 12) }} as raking_max_relative_error
    from totals
    {%- for margin in margins %}
    left join {{ margin }}_error
        on totals.cohort = {{ margin }}_error.cohort and totals.wave = {{ margin }}_error.wave
    {%- endfor %}
),

final as (
    select
        fitted.cohort,
        fitted.wave,
        {%- for margin in margins %}
            fitted.{{ margin }},
        {%- endfor %}
        fitted.respondents,
        {{ gt_round('fitted.weight', 9) }} as survey_weight,
        {{ iterations }} as raking_iterations,
        convergence.raking_max_relative_error
    from fitted
    inner join convergence
        on fitted.cohort = convergence.cohort and fitted.wave = convergence.wave
)

select * from final
