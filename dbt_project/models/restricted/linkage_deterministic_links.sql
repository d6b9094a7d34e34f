-- Responses linked on an identifier, one row each, by the first rule that links them:
-- (1) student_id + school_code; (2) invitation token, the register's own or one carried by another
-- response of the same graduate linked by rule 1 or 3; (3) national_id. A pair a reviewer marked
-- no_match never links. Everything else goes to the approximate matching (linkage_candidates).
{%- set preference -%}
    case
        when unlinked.school_code is null or unlinked.school_code = graduates.school_code then 2
        else 0
    end
    + case
        when {{ linkage_in_cohort_window('unlinked.implied_graduation_month', 'graduates.cohort') }} then 1
        else 0
    end
{%- endset %}

with responses as (
    select * from {{ ref('linkage_responses') }}
),

graduates as (
    select * from {{ ref('linkage_graduates') }}
),

vetoed as (
    select
        response_key,
        graduate_key
    from {{ ref('linkage_decisions') }}
    where decision = 'no_match'
),

-- Rule 1. school_code + student_id is the register's primary key: at most one graduate per response.
by_student_id as (
    select
        responses.*,
        case when vetoed.response_key is null then graduates.graduate_key end as student_id_graduate_key
    from responses
    left join graduates
        on
            responses.school_code = graduates.school_code
            and responses.student_id = graduates.student_id
    left join vetoed
        on
            responses.response_key = vetoed.response_key
            and graduates.graduate_key = vetoed.graduate_key
),

student_id_links as (
    select
        response_key,
        response_number,
        student_id_graduate_key as graduate_key,
        token
    from by_student_id
    where student_id_graduate_key is not null
),

-- What rule 1 left, and could still link on an identifier.
unlinked as (
    select
        response_key,
        response_number,
        school_code,
        token,
        national_id,
        implied_graduation_month
    from by_student_id
    where
        student_id_graduate_key is null
        and (token is not null or national_id is not null)
),

-- Rule 3 (resolved before rule 2, whose token map it feeds).
national_id_candidates as (
    select
        unlinked.response_key,
        graduates.graduate_key,
        3 as precedence,
        'national_id' as link_method,
        {{ preference }} as preference
    from unlinked
    inner join graduates on unlinked.national_id = graduates.national_id
    left join vetoed
        on
            unlinked.response_key = vetoed.response_key
            and graduates.graduate_key = vetoed.graduate_key
    where vetoed.response_key is null
),

national_id_links as (
    {{ linkage_resolve_unique('national_id_candidates') }}
),

-- Who each token belongs to: the register's invitation tokens, and the tokens of responses linked on
-- student_id or national_id (a survey tool that reuses a participant's token across waves).
token_owners as (
    select
        token,
        graduate_key
    from graduates
    where token is not null
    union
    select
        token,
        graduate_key
    from student_id_links
    where token is not null
    union
    select
        unlinked.token,
        national_id_links.graduate_key
    from national_id_links
    inner join unlinked on national_id_links.response_key = unlinked.response_key
    where unlinked.token is not null
),

-- Rule 2.
token_candidates as (
    select
        unlinked.response_key,
        graduates.graduate_key,
        2 as precedence,
        'token' as link_method,
        {{ preference }} as preference
    from unlinked
    inner join token_owners on unlinked.token = token_owners.token
    inner join graduates on token_owners.graduate_key = graduates.graduate_key
    left join vetoed
        on
            unlinked.response_key = vetoed.response_key
            and graduates.graduate_key = vetoed.graduate_key
    where vetoed.response_key is null
),

token_links as (
    {{ linkage_resolve_unique('token_candidates') }}
),

-- Rule 2 before rule 3 for the responses both link.
identifier_links as (
    select
        response_key,
        graduate_key,
        link_method
    from (
        select
            response_key,
            graduate_key,
            link_method,
            row_number() over (partition by response_key order by precedence) as pick
        from (
            select * from token_links
            union all
            select * from national_id_links
        ) as links
    ) as ranked
    where pick = 1
)

select
    response_key,
    response_number,
    graduate_key,
    'student_id' as link_method,
    cast(1.0 as {{ linkage_type_score() }}) as link_score
from student_id_links
union all
select
    identifier_links.response_key,
    unlinked.response_number,
    identifier_links.graduate_key,
    identifier_links.link_method,
    cast(1.0 as {{ linkage_type_score() }}) as link_score
from identifier_links
inner join unlinked on identifier_links.response_key = unlinked.response_key
