{#- Deduplicating registry of generated columns: returns the alias of `expression` in `registry`
    (a dict expression -> alias), adding it as <prefix><n> the first time it is seen. -#}
{% macro gt_register(registry, prefix, expression) -%}
    {%- if expression not in registry -%}
        {%- do registry.update({expression: prefix ~ (registry | length)}) -%}
    {%- endif -%}
    {{ return(registry[expression]) }}
{%- endmacro %}

{#- breakdown and breakdown_value of a GROUPING SETS row over the breakdown columns -#}
{% macro indicator_breakdown_label(breakdowns, breakdown_columns) -%}
    {%- set grouped = breakdowns | reject('equalto', 'total') | list -%}
    {%- if grouped | length == 0 -%}
    'total' as breakdown,
    'all' as breakdown_value
    {%- else -%}
    case
        {%- for breakdown in grouped %}
        when {{ gt_is_grouped_by(breakdown_columns[breakdown]) }} then '{{ breakdown }}'
        {%- endfor %}
        else 'total'
    end as breakdown,
    case
        {%- for breakdown in grouped %}
        when {{ gt_is_grouped_by(breakdown_columns[breakdown]) }}
            then cast({{ breakdown_columns[breakdown] }} as {{ dbt.type_string() }})
        {%- endfor %}
        else 'all'
    end as breakdown_value
    {%- endif -%}
{%- endmacro %}

{#- The admin category of a graduate in the raking (employed / not_employed / not_covered). -#}
{% macro raking_admin_status(in_admin_base, admin_employed) -%}
    case
        when not {{ in_admin_base }} then 'not_covered'
        when {{ admin_employed }} then 'employed'
        else 'not_employed'
    end
{%- endmacro %}
