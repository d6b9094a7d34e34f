-- The indicator catalogue (one row per indicator and source), generated from the same definition
-- list that computes marts.indicators (macros/indicators/indicator_catalogue.sql).
{%- set entries = indicator_catalogue() %}

with catalogue as (
    {%- for entry in entries %}
        select
            '{{ entry.indicator }}' as indicator,
            '{{ entry.source }}' as source,
            '{{ entry.family }}' as family,
            '{{ entry.kind }}' as kind,
            '{{ entry.waves | join(",") }}' as waves,
            '{{ entry.definition | replace("'", "''") }}' as definition,
            {{ loop.index }} as catalogue_order
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select
    cast(indicator as {{ dbt.type_string() }}) as indicator,
    cast(source as {{ dbt.type_string() }}) as source,
    cast(family as {{ dbt.type_string() }}) as family,
    cast(kind as {{ dbt.type_string() }}) as kind,
    cast(waves as {{ dbt.type_string() }}) as waves,
    cast(definition as {{ dbt.type_string() }}) as definition,
    cast(catalogue_order as integer) as catalogue_order
from catalogue
