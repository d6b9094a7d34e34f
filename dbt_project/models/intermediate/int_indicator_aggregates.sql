-- All indicators of the catalogue (macros/indicators/indicator_catalogue.sql) from one scan of
-- int_indicator_base, in three kinds of rows: graduate rows of the pre_graduation wave, graduate rows
-- of the post-graduation waves, response rows. Each row gets the shared conditions of
-- indicator_atoms() and one boolean flag per distinct base / numerator condition of the catalogue
-- entries that apply to its kind (an indicator of the post-graduation waves costs nothing on
-- pre_graduation rows). The additive aggregates (counts of flags, sums of weights and months) are
-- summed once per finest cell (cohort, wave and all breakdown attributes) and rolled up from the cells
-- with one GROUP BY GROUPING SETS for the total and every breakdown at once; the medians (holistic,
-- they cannot be rolled up) take one GROUPING SETS pass per kind of row over the rows that carry a
-- value. One wide row per cohort, wave and breakdown group, five measures per indicator and source
-- (<indicator>__<source>__numerator, __denominator, __value, __base_n, __effective_n);
-- marts.indicators unpivots them. A measure is null where the indicator is not defined for the wave
-- or its source is not active for the cohort and wave: the survey where no row of the cohort and wave
-- is a response or a respondent, admin data where no graduate is in the admin base.
{%- set catalogue = indicator_catalogue() %}
{%- set breakdown_columns = indicator_breakdown_columns() %}
{%- set breakdowns = indicator_breakdowns() %}
{%- set dimensions = breakdown_columns.values() | list %}
{%- set multi_choice = [
    'relevant_skills', 'wish_learned_more', 'alumni_contribution', 'unemployment_reasons'
] %}
{#- kinds of rows: the filter on int_indicator_base that selects them -#}
{%- set kinds = {
    'pre': "is_graduate_row and wave = 'pre_graduation'",
    'post': "is_graduate_row and wave <> 'pre_graduation'",
    'responses': 'is_response',
} %}
{#- shared registries (condition -> flag column, expression -> aggregate alias), and per kind the
    flags and aggregates its rows need -#}
{%- set flags = {} %}
{%- set aggregates = {} %}
{%- set medians = {} %}
{%- set needs = {'pre': {'flags': [], 'aggregates': [], 'medians': []},
                 'post': {'flags': [], 'aggregates': [], 'medians': []},
                 'responses': {'flags': [], 'aggregates': [], 'medians': []}} %}
{%- set counts = [] %}
{%- set measures = [] %}

{%- for entry in catalogue %}
    {%- if entry.get('rows', 'graduates') == 'responses' %}
        {%- set entry_kinds = ['responses'] %}
    {%- else %}
        {%- set entry_kinds = [] %}
        {%- if 'pre_graduation' in entry.waves %}{% do entry_kinds.append('pre') %}{% endif %}
        {%- if entry.waves | reject('equalto', 'pre_graduation') | list %}
            {%- do entry_kinds.append('post') %}
        {%- endif %}
    {%- endif %}
    {#- flag / aggregate / median registration for this entry's kinds -#}
    {%- set entry_flags = [] %}
    {%- set entry_aggregates = [] %}
    {%- set entry_medians = [] %}
    {%- set base = gt_register(flags, 'flag_', entry.base) %}
    {%- do entry_flags.append(base) %}
    {%- set n_base = gt_register(aggregates, 'agg_', gt_count_true(base)) %}
    {%- do entry_aggregates.append(n_base) %}
    {%- do counts.append(n_base) %}
    {%- if entry.kind == 'count' %}
        {%- set m = {'numerator': n_base, 'denominator': 'null', 'value': n_base,
                     'base_n': n_base, 'effective_n': 'null'} %}
    {%- elif entry.kind == 'proportion' and entry.source == 'survey_weighted' %}
        {%- set hit = gt_register(flags, 'flag_', '(' ~ entry.base ~ ') and (' ~ entry.numerator ~ ')') %}
        {%- set den = gt_register(aggregates, 'agg_', 'sum(case when ' ~ base ~ ' then survey_weight end)') %}
        {%- set num = gt_register(aggregates, 'agg_', 'sum(case when ' ~ hit ~ ' then survey_weight end)') %}
        {%- set squares = gt_register(
            aggregates, 'agg_', 'sum(case when ' ~ base ~ ' then survey_weight * survey_weight end)') %}
        {%- do entry_flags.append(hit) %}
        {%- do entry_aggregates.extend([den, num, squares]) %}
        {%- set m = {
            'numerator':
                'case when ' ~ den ~ ' is not null then ' ~ gt_round('coalesce(' ~ num ~ ', 0)', 6) ~ ' end',
            'denominator': gt_round(den, 6),
            'value': 'case when ' ~ den ~ ' > 0 then coalesce(' ~ num ~ ', 0) / ' ~ den ~ ' end',
            'base_n': n_base,
            'effective_n':
                'case when ' ~ squares ~ ' > 0 then ' ~ den ~ ' * ' ~ den ~ ' / ' ~ squares ~ ' end'} %}
    {%- elif entry.kind == 'proportion' %}
        {%- set hit = gt_register(flags, 'flag_', '(' ~ entry.base ~ ') and (' ~ entry.numerator ~ ')') %}
        {%- set num = gt_register(aggregates, 'agg_', gt_count_true(hit)) %}
        {%- do entry_flags.append(hit) %}
        {%- do entry_aggregates.append(num) %}
        {%- do counts.append(num) %}
        {%- set m = {'numerator': num, 'denominator': n_base,
                     'value': 'case when ' ~ n_base ~ ' > 0'
                              ~ ' then cast(' ~ num ~ ' as ' ~ gt_type_double() ~ ') / ' ~ n_base ~ ' end',
                     'base_n': n_base, 'effective_n': n_base} %}
    {%- elif entry.kind == 'median' %}
        {%- set median = gt_register(
            medians, 'median_', 'case when ' ~ entry.base ~ ' then ' ~ entry.numerator ~ ' end') %}
        {%- do entry_medians.append(median) %}
        {%- set m = {'numerator': 'null', 'denominator': n_base, 'value': median,
                     'base_n': n_base, 'effective_n': 'null'} %}
    {%- elif entry.kind == 'ratio' %}
        {%- set num = gt_register(
            aggregates, 'agg_', 'sum(case when ' ~ base ~ ' then ' ~ entry.numerator ~ ' else 0 end)') %}
        {%- set den = gt_register(
            aggregates, 'agg_', 'sum(case when ' ~ base ~ ' then ' ~ entry.denominator ~ ' else 0 end)') %}
        {%- do entry_aggregates.extend([num, den]) %}
        {%- do counts.extend([num, den]) %}
        {%- set m = {'numerator': num, 'denominator': den,
                     'value': 'case when ' ~ den ~ ' > 0'
                              ~ ' then cast(' ~ num ~ ' as ' ~ gt_type_double() ~ ') / ' ~ den ~ ' end',
                     'base_n': n_base, 'effective_n': 'null'} %}
    {%- elif entry.kind == 'difference' %}
        {%- set other = gt_register(flags, 'flag_', entry.comparison) %}
        {%- set hit = gt_register(flags, 'flag_', '(' ~ entry.base ~ ') and (' ~ entry.numerator ~ ')') %}
        {%- set other_hit = gt_register(
            flags, 'flag_', '(' ~ entry.comparison ~ ') and (' ~ entry.numerator ~ ')') %}
        {%- set n2 = gt_register(aggregates, 'agg_', gt_count_true(other)) %}
        {%- set x1 = gt_register(aggregates, 'agg_', gt_count_true(hit)) %}
        {%- set x2 = gt_register(aggregates, 'agg_', gt_count_true(other_hit)) %}
        {%- do entry_flags.extend([other, hit, other_hit]) %}
        {%- do entry_aggregates.extend([n2, x1, x2]) %}
        {%- do counts.extend([n2, x1, x2]) %}
        {%- set m = {'numerator': 'null', 'denominator': n_base ~ ' + ' ~ n2,
                     'value': 'case when ' ~ n_base ~ ' > 0 and ' ~ n2 ~ ' > 0'
                              ~ ' then cast(' ~ x1 ~ ' as ' ~ gt_type_double() ~ ') / ' ~ n_base
                              ~ ' - cast(' ~ x2 ~ ' as ' ~ gt_type_double() ~ ') / ' ~ n2 ~ ' end',
                     'base_n': 'least(' ~ n_base ~ ', ' ~ n2 ~ ')', 'effective_n': 'null'} %}
    {%- endif %}
    {%- for kind in entry_kinds %}
        {%- for name in entry_flags if name not in needs[kind].flags %}
            {%- do needs[kind].flags.append(name) %}
        {%- endfor %}
        {%- for alias in entry_aggregates if alias not in needs[kind].aggregates %}
            {%- do needs[kind].aggregates.append(alias) %}
        {%- endfor %}
        {%- for alias in entry_medians if alias not in needs[kind].medians %}
            {%- do needs[kind].medians.append(alias) %}
        {%- endfor %}
    {%- endfor %}
    {%- if entry.get('scope') == 'register' %}
        {%- set active = '(survey_active or admin_active)' %}
    {%- elif entry.source in ['survey', 'survey_weighted'] %}
        {%- set active = 'survey_active' %}
    {%- elif entry.source == 'admin' %}
        {%- set active = 'admin_active' %}
    {%- else %}
        {%- set active = '(survey_active or admin_active)' %}
    {%- endif %}
    {%- do measures.append({'id': entry.indicator ~ '__' ~ entry.source, 'measures': m,
        'condition': active ~ " and wave in ('" ~ (entry.waves | join("', '")) ~ "')"}) %}
{%- endfor %}

{%- set grouping_sets = [] %}
{%- for breakdown in breakdowns %}
    {%- do grouping_sets.append(
        ['cohort', 'wave'] + ([breakdown_columns[breakdown]] if breakdown != 'total' else [])) %}
{%- endfor %}
{%- set flag_names = {} %}
{%- for condition, name in flags.items() %}{% do flag_names.update({name: condition}) %}{% endfor %}
{%- set median_names = {} %}
{%- for expression, alias in medians.items() %}{% do median_names.update({alias: expression}) %}{% endfor %}

with
{%- for kind, row_filter in kinds.items() %}

    {{ kind }}_flagged as (
        select
            cohort,
            wave,
            {%- for column in dimensions %}
                {{ column }},
            {%- endfor %}
            is_response or is_respondent as is_survey_row,
            in_admin_base,
            survey_weight,
            months_employed,
            months_in_period,
            {%- for name in needs[kind].flags %}
                coalesce(({{ flag_names[name] }}), false) as {{ name }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        from (
            select
                *,
                {%- for item in multi_choice %}
                    {{ gt_split_codes(item) }} as {{ item }}_codes,
                {%- endfor %}
                {%- for name, condition in indicator_atoms().items() %}
                    coalesce(({{ condition }}), false) as {{ name }}{% if not loop.last %},{% endif %}
                {%- endfor %}
            from {{ ref('int_indicator_base') }}
            where {{ row_filter }} and {{ in_run_cohorts() }}
        ) as base_rows
    ),

    -- stage 1 ({{ kind }} rows): additive aggregates per finest cell
    {{ kind }}_cells as (
        select
            cohort,
            wave,
            {%- for column in dimensions %}
                {{ column }},
            {%- endfor %}
            {{ dbt.bool_or('is_survey_row') }} as any_survey_row,
            {{ dbt.bool_or('in_admin_base') }} as any_admin_base,
            {%- for expression, alias in aggregates.items() %}
                {%- if alias in needs[kind].aggregates %}
                    {{ expression }} as {{ alias }}{% if not loop.last %},{% endif %}
                {%- else %}
                    cast(null as {{ gt_type_double() }}) as {{ alias }}{% if not loop.last %},{% endif %}
                {%- endif %}
            {%- endfor %}
        from {{ kind }}_flagged
        group by
            {%- for column in ['cohort', 'wave'] + dimensions %}
                {{ column }}{% if not loop.last %},{% endif %}
            {%- endfor %}
    ),
{%- endfor %}

cells as (
    {%- for kind in kinds %}
        select * from {{ kind }}_cells
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

-- stage 2: total and breakdowns, rolled up from the cells
rolled_up as (
    select
        cohort,
        wave,
        {{ indicator_breakdown_label(breakdowns, breakdown_columns) }},
        {{ dbt.bool_or('any_survey_row') }} as any_survey_row,
        {{ dbt.bool_or('any_admin_base') }} as any_admin_base,
        {%- for alias in aggregates.values() %}
            {%- if alias in counts %}
                coalesce(sum({{ alias }}), 0) as {{ alias }}{% if not loop.last %},{% endif %}
            {%- else %}
                sum({{ alias }}) as {{ alias }}{% if not loop.last %},{% endif %}
            {%- endif %}
        {%- endfor %}
    from cells
    -- sqlfluff's DuckDB dialect cannot parse GROUPING SETS (see gt_group_by_grouping_sets)
    {{ gt_group_by_grouping_sets(grouping_sets) }}  -- noqa: PRS
),
{%- for kind, row_filter in kinds.items() if needs[kind].medians %}

    {{ kind }}_medians as (
        select
            cohort,
            wave,
            {{ indicator_breakdown_label(breakdowns, breakdown_columns) }},
            {%- for alias in needs[kind].medians %}
                {{ gt_median(median_names[alias]) }} as {{ alias }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        from {{ ref('int_indicator_base') }}
        where
            {{ row_filter }}
            and {{ in_run_cohorts() }}
            and (
                {%- for alias in needs[kind].medians %}
                    ({{ median_names[alias] }}) is not null{% if not loop.last %} or{% endif %}
                {%- endfor %}
            )
        -- sqlfluff's DuckDB dialect cannot parse GROUPING SETS (see gt_group_by_grouping_sets)
        {{ gt_group_by_grouping_sets(grouping_sets) }}  -- noqa: PRS
    ),
{%- endfor %}

aggregated as (
    select
        rolled_up.*,
        {%- for kind in kinds if needs[kind].medians %}
            {%- for alias in needs[kind].medians %}
                {{ kind }}_medians.{{ alias }},
            {%- endfor %}
        {%- endfor %}
        -- a source is active for a cohort and wave (all its groups) where any of its rows has data
        {{ dbt.bool_or('rolled_up.any_survey_row') }} over (partition by rolled_up.cohort, rolled_up.wave)
            as survey_active,
        {{ dbt.bool_or('rolled_up.any_admin_base') }} over (partition by rolled_up.cohort, rolled_up.wave)
            as admin_active
    from rolled_up
    {%- for kind in kinds if needs[kind].medians %}
    left join {{ kind }}_medians
        on
            rolled_up.cohort = {{ kind }}_medians.cohort
            and rolled_up.wave = {{ kind }}_medians.wave
            and rolled_up.breakdown = {{ kind }}_medians.breakdown
            and rolled_up.breakdown_value = {{ kind }}_medians.breakdown_value
    {%- endfor %}
),

final as (
    select
        cohort,
        wave,
        breakdown,
        breakdown_value,
        {%- for item in measures %}
            {%- set outer_loop = loop %}
            {%- for measure in ['numerator', 'denominator', 'value', 'base_n', 'effective_n'] %}
                cast(
                    case when {{ item.condition }} then {{ item.measures[measure] }} end
                    as {{ gt_type_double() }}
                ) as {{ item.id }}__{{ measure }}{% if not (outer_loop.last and loop.last) %},{% endif %}
            {%- endfor %}
        {%- endfor %}
    from aggregated
)

select * from final
