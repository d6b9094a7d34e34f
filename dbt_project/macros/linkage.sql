{#-
    Record linkage helpers (docs/linkage.md).

    Functions that are not standard SQL (string similarity, reading a CSV file) are dispatched on the
    adapter: the duckdb__ versions are the ones the project runs; to support another adapter, add an
    <adapter>__ version of each (e.g. postgres__linkage_levenshtein with fuzzystrmatch). The default__
    versions say clearly what is missing instead of emitting SQL that fails somewhere else.
-#}

{#- Jaro-Winkler similarity of two strings, 0 (nothing in common) to 1 (equal); null if one is null. -#}
{% macro linkage_jaro_winkler(left, right) -%}
    {{ return(adapter.dispatch('linkage_jaro_winkler', 'gradtrack')(left, right)) }}
{%- endmacro %}

{% macro default__linkage_jaro_winkler(left, right) -%}
    {{ exceptions.raise_compiler_error(
        "linkage_jaro_winkler has no implementation for the '" ~ adapter.type() ~ "' adapter: add a "
        ~ adapter.type() ~ "__linkage_jaro_winkler macro (see macros/linkage.sql)") }}
{%- endmacro %}

{% macro duckdb__linkage_jaro_winkler(left, right) -%}
    jaro_winkler_similarity({{ left }}, {{ right }})
{%- endmacro %}


{#- Levenshtein edit distance (insertions, deletions, substitutions) between two strings. -#}
{% macro linkage_levenshtein(left, right) -%}
    {{ return(adapter.dispatch('linkage_levenshtein', 'gradtrack')(left, right)) }}
{%- endmacro %}

{% macro default__linkage_levenshtein(left, right) -%}
    {{ exceptions.raise_compiler_error(
        "linkage_levenshtein has no implementation for the '" ~ adapter.type() ~ "' adapter: add a "
        ~ adapter.type() ~ "__linkage_levenshtein macro (see macros/linkage.sql)") }}
{%- endmacro %}

{% macro duckdb__linkage_levenshtein(left, right) -%}
    levenshtein({{ left }}, {{ right }})
{%- endmacro %}


{#- Optimal string alignment distance (Levenshtein plus adjacent transpositions): "1234" vs "1324" = 1. -#}
{% macro linkage_damerau_levenshtein(left, right) -%}
    {{ return(adapter.dispatch('linkage_damerau_levenshtein', 'gradtrack')(left, right)) }}
{%- endmacro %}

{% macro default__linkage_damerau_levenshtein(left, right) -%}
    {{ exceptions.raise_compiler_error(
        "linkage_damerau_levenshtein has no implementation for the '" ~ adapter.type() ~ "' adapter: add a "
        ~ adapter.type() ~ "__linkage_damerau_levenshtein macro (see macros/linkage.sql)") }}
{%- endmacro %}

{% macro duckdb__linkage_damerau_levenshtein(left, right) -%}
    damerau_levenshtein({{ left }}, {{ right }})
{%- endmacro %}


{#-
    The reviewers' decisions file (docs/linkage.md, "Review workflow"): a relation with the columns
    response_key, graduate_key, decision, decided_by, decided_on, note, all text as written in the file.
    `path` empty = no file configured = an empty relation with the same columns.
-#}
{% macro linkage_read_decisions(path) -%}
    {{ return(adapter.dispatch('linkage_read_decisions', 'gradtrack')(path)) }}
{%- endmacro %}

{% macro default__linkage_read_decisions(path) -%}
    {%- if path -%}
        {{ exceptions.raise_compiler_error(
            "Reading the linkage decisions file " ~ path ~ " is not implemented for the '" ~ adapter.type()
            ~ "' adapter: add a " ~ adapter.type() ~ "__linkage_read_decisions macro (see macros/linkage.sql)") }}
    {%- endif -%}
    {{ linkage_no_decisions() }}
{%- endmacro %}

{% macro duckdb__linkage_read_decisions(path) -%}
    {%- if not path -%}
        {{ linkage_no_decisions() }}
    {%- else -%}
        select
            response_key,
            graduate_key,
            decision,
            decided_by,
            decided_on,
            note
        from read_csv(
            '{{ path | replace("'", "''") }}',
            header = true,
            all_varchar = true,
            normalize_names = true
        )
    {%- endif -%}
{%- endmacro %}

{#- An empty relation with the columns of the decisions file (portable SQL). -#}
{% macro linkage_no_decisions() -%}
    select
        cast(null as {{ dbt.type_string() }}) as response_key,
        cast(null as {{ dbt.type_string() }}) as graduate_key,
        cast(null as {{ dbt.type_string() }}) as decision,
        cast(null as {{ dbt.type_string() }}) as decided_by,
        cast(null as {{ dbt.type_string() }}) as decided_on,
        cast(null as {{ dbt.type_string() }}) as note
    where 1 = 0
{%- endmacro %}


{#-
    Cohort window (portable SQL). A response's wave and start time imply when its respondent graduated:
    pre_graduation is fielded about 3 months before graduation, m6 6 months and m18 18 months after.
    `linkage_implied_graduation_month` gives that month as year * 12 + month - 1 (null without a time);
    `linkage_in_cohort_window` accepts a register cohort (graduation year) when the implied month falls in
    that year, widened by `linkage_cohort_tolerance_months` (default 4) on both sides.
-#}
{% macro linkage_implied_graduation_month(wave, timestamp) -%}
    (
        extract(year from {{ timestamp }}) * 12
        + extract(month from {{ timestamp }}) - 1
        - case {{ wave }}
            when 'pre_graduation' then -3
            when 'm6' then 6
            when 'm18' then 18
        end
    )
{%- endmacro %}

{% macro linkage_in_cohort_window(implied_month, cohort) -%}
    {%- set tolerance = var('linkage_cohort_tolerance_months', 4) -%}
    (
        {{ implied_month }} is null
        or (
            {{ implied_month }} >= {{ cohort }} * 12 - {{ tolerance }}
            and {{ implied_month }} <= {{ cohort }} * 12 + 11 + {{ tolerance }}
        )
    )
{%- endmacro %}


{#-
    Resolve deterministic candidates (portable SQL). `candidates` has response_key, graduate_key,
    precedence, link_method and preference (2 = same school as the response gives or none given, + 1 =
    in the cohort window). Per response and rule, only the most preferred candidates count, and the rule
    links only when they are one single graduate: an identifier shared by two graduates decides nothing.
-#}
{% macro linkage_resolve_unique(candidates) -%}
    select
        response_key,
        precedence,
        link_method,
        min(graduate_key) as graduate_key
    from (
        select
            response_key,
            graduate_key,
            precedence,
            link_method,
            preference,
            max(preference) over (partition by response_key, precedence) as best_preference
        from {{ candidates }}
    ) as preferred
    where preference = best_preference
    group by
        response_key,
        precedence,
        link_method
    having count(distinct graduate_key) = 1
{%- endmacro %}


{#-
    One join key from several expressions (blocking keys). DuckDB: a 64-bit hash, so the blocking join
    compares integers instead of strings; a collision only adds a candidate pair, which the comparison
    then scores and rejects. Elsewhere: the expressions concatenated, which is slower but exact.
-#}
{% macro linkage_join_key(expressions) -%}
    {{ return(adapter.dispatch('linkage_join_key', 'gradtrack')(expressions)) }}
{%- endmacro %}

{% macro default__linkage_join_key(expressions) -%}
    {%- set parts = [] -%}
    {%- for expression in expressions -%}
        {%- do parts.append("coalesce(cast(" ~ expression ~ " as " ~ dbt.type_string() ~ "), '')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}

{% macro duckdb__linkage_join_key(expressions) -%}
    hash({{ expressions | join(', ') }})
{%- endmacro %}


{#-
    Similarity of two normalised names that may have several parts ("maria jose", "fernandez garcia"),
    0-1, null when one is missing (portable SQL around linkage_jaro_winkler). `a` and `b` are dicts with
    the full name (`full`), its first part (`head`) and the rest (`rest`, null for a one-part name):
      equal names                          1
      both one part                        Jaro-Winkler of the names
      one part against several             0.95 x the best Jaro-Winkler of that part against the other's
                                           first part or rest (a respondent giving one surname of two)
      several parts on both sides          mean of the Jaro-Winkler of the first parts and of the rests
    Plain Jaro-Winkler of the full strings would rate "fernandez suarez" against "fernandez rodriguez"
    above 0.9, and prefer "alvarez perez" to "alvarez menendez" for a respondent who wrote "alvarez".
-#}
{% macro linkage_name_similarity(a, b) -%}
    case
        when {{ a.full }} is null or {{ b.full }} is null then null
        when {{ a.full }} = {{ b.full }} then 1.0
        when {{ a.rest }} is null and {{ b.rest }} is null
            then {{ linkage_jaro_winkler(a.full, b.full) }}
        when {{ a.rest }} is null
            then 0.95 * greatest(
                {{ linkage_jaro_winkler(a.full, b.head) }},
                {{ linkage_jaro_winkler(a.full, b.rest) }}
            )
        when {{ b.rest }} is null
            then 0.95 * greatest(
                {{ linkage_jaro_winkler(a.head, b.full) }},
                {{ linkage_jaro_winkler(a.rest, b.full) }}
            )
        else 0.5 * {{ linkage_jaro_winkler(a.head, b.head) }} + 0.5 * {{ linkage_jaro_winkler(a.rest, b.rest) }}
    end
{%- endmacro %}

{#- The first part of a normalised name, and the rest (null for a one-part name); portable SQL. -#}
{% macro linkage_name_head(name) -%}
    {{ dbt.split_part(name, "' '", 1) }}
{%- endmacro %}

{% macro linkage_name_rest(name) -%}
    nullif(trim(substring({{ name }}, length({{ dbt.split_part(name, "' '", 1) }}) + 1)), '')
{%- endmacro %}


{#- The type of link scores: an 8-byte float (dbt.type_float() is 4 bytes on DuckDB). -#}
{% macro linkage_type_score() -%}
    {{ return(adapter.dispatch('linkage_type_score', 'gradtrack')()) }}
{%- endmacro %}

{% macro default__linkage_type_score() -%}double precision{%- endmacro %}

{% macro duckdb__linkage_type_score() -%}double{%- endmacro %}
