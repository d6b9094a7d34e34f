{#- Generic test: no two rows share the same values of `columns` (a composite primary key).
    Nulls count as values, so a key column must also be tested not_null. -#}
{% test unique_combination(model, columns) %}
    select
        {{ columns | join(', ') }},
        count(*) as rows_with_this_key
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{#- Generic test: every combination of `columns` of the model exists in `to` (a composite foreign
    key); rows where any of the columns is null are not checked. -#}
{% test relationships_combination(model, columns, to, to_columns=none) %}
    {%- set parent_columns = to_columns or columns %}
    select child.*
    from {{ model }} as child
    left join {{ to }} as parent
        on
        {%- for column in columns %}
            child.{{ column }} = parent.{{ parent_columns[loop.index0] }}{% if not loop.last %} and{% endif %}
        {%- endfor %}
    where
        {%- for column in columns %}
        child.{{ column }} is not null and
        {%- endfor %}
        parent.{{ parent_columns[0] }} is null
{% endtest %}
