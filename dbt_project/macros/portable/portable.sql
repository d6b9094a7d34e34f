{#- Portable building blocks. Models call these instead of DuckDB-only functions; each has a
    default__ (ANSI-ish SQL: Postgres, Snowflake, BigQuery...) and a duckdb__ implementation. -#}

{#- A double-precision floating point type (dbt.type_float() is a 4-byte float on DuckDB). -#}
{% macro gt_type_double() -%}
    {{ return(adapter.dispatch('gt_type_double', 'gradtrack')()) }}
{%- endmacro %}
{% macro default__gt_type_double() -%}double precision{%- endmacro %}
{% macro duckdb__gt_type_double() -%}double{%- endmacro %}

{#- Number of rows where a boolean condition is true (0 when none). -#}
{% macro gt_count_true(condition) -%}
    {{ return(adapter.dispatch('gt_count_true', 'gradtrack')(condition)) }}
{%- endmacro %}
{% macro default__gt_count_true(condition) -%}
    sum(case when {{ condition }} then 1 else 0 end)
{%- endmacro %}
{% macro duckdb__gt_count_true(condition) -%}
    count_if({{ condition }})
{%- endmacro %}

{#- Median of a numeric expression (mean of the two middle values for an even count). -#}
{% macro gt_median(expression) -%}
    {{ return(adapter.dispatch('gt_median', 'gradtrack')(expression)) }}
{%- endmacro %}
{% macro default__gt_median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}
{% macro duckdb__gt_median(expression) -%}
    median({{ expression }})
{%- endmacro %}

{#- Multi-choice answers are stored as sorted codes joined with ';'. gt_split_codes turns the text
    into a searchable value once per row; gt_has_code tests one code on that value. -#}
{% macro gt_split_codes(column) -%}
    {{ return(adapter.dispatch('gt_split_codes', 'gradtrack')(column)) }}
{%- endmacro %}
{% macro default__gt_split_codes(column) -%}
    ';' || {{ column }} || ';'
{%- endmacro %}
{% macro duckdb__gt_split_codes(column) -%}
    string_split({{ column }}, ';')
{%- endmacro %}

{% macro gt_has_code(split_column, code) -%}
    {{ return(adapter.dispatch('gt_has_code', 'gradtrack')(split_column, code)) }}
{%- endmacro %}
{% macro default__gt_has_code(split_column, code) -%}
    coalesce(position(';{{ code }};' in {{ split_column }}) > 0, false)
{%- endmacro %}
{% macro duckdb__gt_has_code(split_column, code) -%}
    coalesce(list_contains({{ split_column }}, '{{ code }}'), false)
{%- endmacro %}

{#- True on the rows of a GROUPING SETS aggregate whose grouping set contains the column. -#}
{% macro gt_is_grouped_by(column) -%}
    {{ return(adapter.dispatch('gt_is_grouped_by', 'gradtrack')(column)) }}
{%- endmacro %}
{% macro default__gt_is_grouped_by(column) -%}
    (grouping({{ column }}) = 0)
{%- endmacro %}
{% macro duckdb__gt_is_grouped_by(column) -%}
    (grouping({{ column }}) = 0)
{%- endmacro %}

{#- Wide to long: one output row per (input row, entry). `entries` is a list of names; each entry
    has the columns <entry>__<measure> for every measure. Output: keep_columns, `entry_column`
    (the entry name) and one column per measure. Rows whose measures are all null are kept (the
    caller filters). -#}
{% macro gt_unpivot(relation, keep_columns, entries, measures, entry_column='entry') -%}
    {{ return(adapter.dispatch('gt_unpivot', 'gradtrack')(relation, keep_columns, entries, measures, entry_column)) }}
{%- endmacro %}
{% macro default__gt_unpivot(relation, keep_columns, entries, measures, entry_column) -%}
    {%- for entry in entries %}
    select
        {%- for column in keep_columns %}
        {{ column }},
        {%- endfor %}
        '{{ entry }}' as {{ entry_column }},
        {%- for measure in measures %}
        {{ entry }}__{{ measure }} as {{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ relation }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
{% macro duckdb__gt_unpivot(relation, keep_columns, entries, measures, entry_column) -%}
    select
        {%- for column in keep_columns %}
        {{ column }},
        {%- endfor %}
        {{ entry_column }},
        {%- for measure in measures %}
        {{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ relation }}
    unpivot include nulls (
        ({{ measures | join(', ') }}) for {{ entry_column }} in (
            {%- for entry in entries %}
            ({% for measure in measures %}{{ entry }}__{{ measure }}{% if not loop.last %}, {% endif %}{% endfor %}) as '{{ entry }}'{% if not loop.last %},{% endif %}
            {%- endfor %}
        )
    )
{%- endmacro %}

{#- The value of `arg` on the row with the largest `value` (rows with a null value ignored). -#}
{% macro gt_arg_max(arg, value) -%}
    {{ return(adapter.dispatch('gt_arg_max', 'gradtrack')(arg, value)) }}
{%- endmacro %}
{% macro default__gt_arg_max(arg, value) -%}
    (array_agg({{ arg }} order by {{ value }} desc) filter (where {{ value }} is not null))[1]
{%- endmacro %}
{% macro duckdb__gt_arg_max(arg, value) -%}
    arg_max({{ arg }}, {{ value }})
{%- endmacro %}

{#- Bitwise OR of integer bit masks over the rows of a group. -#}
{% macro gt_bit_or_agg(expression) -%}
    {{ return(adapter.dispatch('gt_bit_or_agg', 'gradtrack')(expression)) }}
{%- endmacro %}
{% macro default__gt_bit_or_agg(expression) -%}
    bit_or({{ expression }})
{%- endmacro %}

{#- Number of bits set among bit positions `first`..`last` of an integer mask. -#}
{% macro gt_count_bits(mask, first, last) -%}
    {{ return(adapter.dispatch('gt_count_bits', 'gradtrack')(mask, first, last)) }}
{%- endmacro %}
{% macro default__gt_count_bits(mask, first, last) -%}
    ({% for bit in range(first, last + 1) %}((({{ mask }}) >> {{ bit }}) & 1){% if not loop.last %} + {% endif %}{% endfor %})
{%- endmacro %}
{% macro duckdb__gt_count_bits(mask, first, last) -%}
    bit_count(cast(({{ mask }}) & {{ (2 ** (last + 1)) - (2 ** first) }} as bigint))
{%- endmacro %}

{#- GROUP BY GROUPING SETS over a list of column lists (each rendered as one set).
    Lint: sqlfluff's DuckDB dialect (4.4) cannot parse GROUPING SETS (its GROUP BY grammar takes plain
    expressions only), and its dbt templater parses the rendered SQL, so having the construct in this
    macro does not keep it from the parser. No other form gives the same rows in one pass and parses:
    ROLLUP / CUBE cannot express "these columns plus at most one breakdown column", and a UNION ALL of
    one GROUP BY per set would scan the input once per set and lose grouping(). Callers therefore put
    `-- noqa: PRS` on the line of the call; sqlfluff still lints the rest of the model. -#}
{% macro gt_group_by_grouping_sets(sets) -%}
    {{ return(adapter.dispatch('gt_group_by_grouping_sets', 'gradtrack')(sets)) }}
{%- endmacro %}
{% macro default__gt_group_by_grouping_sets(sets) -%}
    group by grouping sets ({% for columns in sets %}({{ columns | join(', ') }}){% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{#- Round a floating point expression to `digits` decimals (Postgres rounds only numerics). -#}
{% macro gt_round(expression, digits) -%}
    {{ return(adapter.dispatch('gt_round', 'gradtrack')(expression, digits)) }}
{%- endmacro %}
{% macro default__gt_round(expression, digits) -%}
    cast(round(cast({{ expression }} as numeric), {{ digits }}) as {{ gt_type_double() }})
{%- endmacro %}
{% macro duckdb__gt_round(expression, digits) -%}
    round({{ expression }}, {{ digits }})
{%- endmacro %}

{#- An integer whose bits `first`..`last` are set (0 when first > last); bits up to 62. -#}
{% macro gt_bit_range_mask(first, last) -%}
    {{ return(adapter.dispatch('gt_bit_range_mask', 'gradtrack')(first, last)) }}
{%- endmacro %}
{% macro default__gt_bit_range_mask(first, last) -%}
    case
        when ({{ first }}) <= ({{ last }})
            then cast(power(2, ({{ last }}) + 1) - power(2, {{ first }}) as {{ dbt.type_bigint() }})
        else 0
    end
{%- endmacro %}
{% macro duckdb__gt_bit_range_mask(first, last) -%}
    case
        when ({{ first }}) <= ({{ last }})
            then (cast(1 as bigint) << (({{ last }}) + 1)) - (cast(1 as bigint) << ({{ first }}))
        else 0
    end
{%- endmacro %}
