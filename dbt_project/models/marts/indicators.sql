-- marts.indicators: the long table every report and analyst reads (shared/spec/indicators.md).
-- One row per cohort, wave, indicator, source, breakdown and breakdown value, unpivoted from the
-- wide aggregate. value = numerator / denominator for proportions (or the median / difference /
-- count the indicator names); ci_low / ci_high = 95 % Wilson score interval for proportions (on the
-- effective sample size for survey_weighted); suppressed = the number of graduates / responses in
-- the base is below var('suppression_threshold').
{%- set entries = [] %}
{%- for entry in indicator_catalogue() %}
    {%- do entries.append(entry.indicator ~ '__' ~ entry.source) %}
{%- endfor %}
{%- set measures = ['numerator', 'denominator', 'value', 'base_n', 'effective_n'] %}
{%- set keep_columns = ['cohort', 'wave', 'breakdown', 'breakdown_value'] %}

with aggregates as (
    select * from {{ ref('int_indicator_aggregates') }}
),

long_rows as (
    {{ gt_unpivot('aggregates', keep_columns, entries, measures, 'entry') }}
),

final as (
    select
        cast(cohort as integer) as cohort,
        cast(wave as {{ dbt.type_string() }}) as wave,
        cast({{ dbt.split_part('entry', "'__'", 1) }} as {{ dbt.type_string() }}) as indicator,
        cast({{ dbt.split_part('entry', "'__'", 2) }} as {{ dbt.type_string() }}) as source,
        cast(breakdown as {{ dbt.type_string() }}) as breakdown,
        cast(breakdown_value as {{ dbt.type_string() }}) as breakdown_value,
        numerator,
        denominator,
        value,
        {{ wilson_low('numerator / denominator', 'effective_n') }} as ci_low,
        {{ wilson_high('numerator / denominator', 'effective_n') }} as ci_high,
        base_n < {{ var('suppression_threshold') }} as suppressed
    from long_rows
    where base_n is not null and breakdown_value is not null
)

select * from final
where {{ in_run_cohorts() }}
