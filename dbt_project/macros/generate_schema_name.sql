{#- Use the folder's schema as is (raw, restricted, staging, intermediate, marts): analysts and
    the restricted-zone rule rely on these exact names, not on target-prefixed ones. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
