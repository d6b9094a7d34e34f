{#-
    Cohort-partitioned builds. The orchestration passes the cohorts of a partition's run as the var
    `cohorts`; the models configured `incremental_strategy='cohort_replace'` (dbt_project.yml) then
    recompute only those cohorts' rows and replace them, leaving every other cohort untouched. With
    `cohorts` empty, or on a first or --full-refresh build, they build every cohort.
    Rows without a cohort (responses that link to no graduate) are recomputed on every run.
-#}

{% macro cohort_predicate(column='cohort') -%}
    {%- if var('cohorts') -%}
        ({{ column }} in ({{ var('cohorts') | join(', ') }}) or {{ column }} is null)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The filter a cohort-incremental model applies to what it computes. -#}
{% macro in_run_cohorts(column='cohort') -%}
    {%- if is_incremental() -%}{{ cohort_predicate(column) }}{%- else -%}true{%- endif -%}
{%- endmacro %}

{#- Custom incremental strategy: delete the run's cohorts, insert their new rows. -#}
{% macro get_incremental_cohort_replace_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    delete from {{ target }} where {{ cohort_predicate() }};
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}
