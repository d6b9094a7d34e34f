{#-
    Blocking keys of the approximate linkage (docs/linkage.md, "Blocking"): one row per record and key,
    (id, school_code, <carried columns>, key_type, key_value). A response and a graduate become a
    candidate pair only when they share a key of the same type (and school, and cohort window), so the
    comparison never runs over all pairs.

    Both sides build their keys with this one macro so that they are spelled identically. The survey side
    (`survey_side=true`) also emits the variants of common slips: the birth date with day and month
    swapped, and first and last name given in each other's field.

    key_type          value                                                     survives
    dob_initials      birth date + initials of last and first name              name typos past the first letter,
                                                                                one surname of two, accents, a
                                                                                wrong or missing e-mail
    email             e-mail address                                            any name or birth date error
    email_local       e-mail address before the @ (5+ characters)               another e-mail provider
    name_year_month   last name + first name + birth year and month             wrong birth day
    name_year_day     last name + first name + birth year and day               wrong birth month
    name_month_day    last name + first name + birth month and day              wrong birth year
    full_name         last name + first name; survey side only when it has no   no birth date on the response
                      birth date
    full_name_nodob   the same; register side only when it has no birth date    no birth date in the register
    national_id_one_edit  the national id and its deletion neighbourhood (5+     one wrong, missing, extra or
                      characters)                                               transposed character, with any
                                                                                name or birth date error
    dob_last_name,    birth date + first 3 letters of one name                  the other name missing or wrong
    dob_first_name                                                              from its first letter

    The names in the keys are the normalised ones (lower case, no accents), so case and accents never
    matter. Keys with names and the birth year alone (3 letters of the last name + year, or even the
    full names + year) were tried and dropped: with 240,000 graduates in one school and common names,
    they put dozens to thousands of graduates behind one key.
-#}
{% macro linkage_blocking_keys(relation, id_column, carry, survey_side, max_id_length=20) -%}
    {%- set string = dbt.type_string() -%}
    {%- set year = "cast(extract(year from birth_date) as " ~ string ~ ")" -%}
    {%- set month = "cast(extract(month from birth_date) as " ~ string ~ ")" -%}
    {%- set day = "cast(extract(day from birth_date) as " ~ string ~ ")" -%}
    {%- set dates = [{"value": dbt.concat([year, "'-'", month, "'-'", day]), "when": "true"}] -%}
    {%- if survey_side -%}
        {%- do dates.append({
            "value": dbt.concat([year, "'-'", day, "'-'", month]),
            "when": "extract(day from birth_date) <= 12 and extract(day from birth_date) <> extract(month from birth_date)"
        }) -%}
    {%- endif -%}
    {%- set orders = [("last_name_norm", "first_name_norm")] -%}
    {%- if survey_side -%}
        {%- do orders.append(("first_name_norm", "last_name_norm")) -%}
    {%- endif -%}
    {%- set selects = [] -%}
    {%- set head = id_column ~ ", school_code, " ~ (carry | join(", ")) -%}

    {%- for date in dates -%}
        {%- for last, first in orders -%}
            {%- do selects.append(
                "select " ~ head ~ ", 'dob_initials' as key_type, "
                ~ dbt.concat([date.value, "'|'", "substring(" ~ last ~ ", 1, 1)", "substring(" ~ first ~ ", 1, 1)"])
                ~ " as key_value from " ~ relation
                ~ " where birth_date is not null and " ~ last ~ " is not null and " ~ first ~ " is not null and "
                ~ date.when
            ) -%}
        {%- endfor -%}
    {%- endfor -%}

    {%- do selects.append(
        "select " ~ head ~ ", 'email' as key_type, email_norm as key_value from " ~ relation
        ~ " where email_norm is not null"
    ) -%}
    {%- do selects.append(
        "select " ~ head ~ ", 'email_local' as key_type, " ~ dbt.split_part("email_norm", "'@'", 1)
        ~ " as key_value from " ~ relation
        ~ " where email_norm is not null and length(" ~ dbt.split_part("email_norm", "'@'", 1) ~ ") >= 5"
    ) -%}

    {#- National id within one edit: the deletion neighbourhood (the id itself and the id with one
        character left out, at each position; position 0 leaves nothing out). Two ids one substitution,
        insertion, deletion or adjacent transposition apart share one of these keys ("1234567" and
        "123567": the first without its "4" is the second); equal ids share all of them. -#}
    {%- set positions = [] -%}
    {%- for i in range(0, max_id_length + 1) -%}
        {%- do positions.append("select " ~ i ~ " as position") -%}
    {%- endfor -%}
    {%- do selects.append(
        "select " ~ head ~ ", 'national_id_one_edit' as key_type, "
        ~ "case when position = 0 then national_id else "
        ~ dbt.concat(["substring(national_id, 1, position - 1)", "substring(national_id, position + 1)"])
        ~ " end as key_value from " ~ relation ~ " cross join (" ~ (positions | join(" union all ")) ~ ") as positions"
        ~ " where national_id is not null and length(national_id) >= 5 and position <= length(national_id)"
    ) -%}

    {%- for last, first in orders -%}
        {#- Birth date with the first 3 letters of one name: the other name may be missing or wrong from
            its first letter, this one wrong after its third. -#}
        {%- for key_type, name in [("dob_last_name", last), ("dob_first_name", first)] -%}
            {%- for date in dates -%}
                {%- do selects.append(
                    "select " ~ head ~ ", '" ~ key_type ~ "' as key_type, "
                    ~ dbt.concat([date.value, "'|'", "substring(" ~ name ~ ", 1, 3)"]) ~ " as key_value from " ~ relation
                    ~ " where birth_date is not null and " ~ name ~ " is not null and " ~ date.when
                ) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- set present = " where birth_date is not null and " ~ last ~ " is not null and " ~ first ~ " is not null" -%}
        {%- for key_type, parts in [
            ("name_year_month", [year, "'-'", month]),
            ("name_year_day", [year, "'-'", day]),
            ("name_month_day", [month, "'-'", day]),
        ] -%}
            {%- do selects.append(
                "select " ~ head ~ ", '" ~ key_type ~ "' as key_type, "
                ~ dbt.concat([last, "'|'", first, "'|'"] + parts) ~ " as key_value from " ~ relation ~ present
            ) -%}
        {%- endfor -%}
        {%- set full_name = dbt.concat([last, "'|'", first]) -%}
        {%- set named = " where " ~ last ~ " is not null and " ~ first ~ " is not null" -%}
        {%- if survey_side -%}
            {%- do selects.append(
                "select " ~ head ~ ", 'full_name' as key_type, " ~ full_name ~ " as key_value from "
                ~ relation ~ named ~ " and birth_date is null"
            ) -%}
            {%- do selects.append(
                "select " ~ head ~ ", 'full_name_nodob' as key_type, " ~ full_name ~ " as key_value from "
                ~ relation ~ named
            ) -%}
        {%- else -%}
            {%- do selects.append(
                "select " ~ head ~ ", 'full_name' as key_type, " ~ full_name ~ " as key_value from "
                ~ relation ~ named
            ) -%}
            {%- do selects.append(
                "select " ~ head ~ ", 'full_name_nodob' as key_type, " ~ full_name ~ " as key_value from "
                ~ relation ~ named ~ " and birth_date is null"
            ) -%}
        {%- endif -%}
    {%- endfor -%}

    {{ selects | join("\n    union all\n    ") }}
{%- endmacro %}
