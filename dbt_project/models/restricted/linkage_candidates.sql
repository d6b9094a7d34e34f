-- Approximate matching of the responses no identifier linked (docs/linkage.md): candidate pairs from
-- blocking keys (same school when the response gives one, cohort window, a shared key; never all pairs),
-- compared field by field, scored, ranked per response, with the automatic outcome of each pair:
-- accept (links as `probabilistic`), review (goes to linkage_review) or reject.
-- Kept: every pair accepted or sent to review, and the three best candidates of each response.
{%- set w_first = 0.20 -%}
{%- set w_last = 0.30 -%}
{%- set w_birth = 0.30 -%}
{%- set w_email = 0.20 -%}
{%- set w_national_id = 0.30 -%}
{%- set w_weak = 0.05 -%}
{%- set accept = var('linkage_accept_score') -%}
{%- set review = var('linkage_review_score') -%}
{%- set margin = var('linkage_accept_margin') -%}
{#- A reviewer sees at most a response's five best candidates (close_candidates says how many tie). -#}
{%- set in_review_reach = 'ranked.candidate_rank <= 5' -%}
{%- set r_first = {'full': 'responses.first_name_norm', 'head': 'responses.first_name_head',
                   'rest': 'responses.first_name_rest'} -%}
{%- set r_last = {'full': 'responses.last_name_norm', 'head': 'responses.last_name_head',
                  'rest': 'responses.last_name_rest'} -%}
{%- set g_first = {'full': 'graduates.first_name_norm', 'head': 'graduates.first_name_head',
                   'rest': 'graduates.first_name_rest'} -%}
{%- set g_last = {'full': 'graduates.last_name_norm', 'head': 'graduates.last_name_head',
                  'rest': 'graduates.last_name_rest'} %}

with deterministic as (
    select response_number from {{ ref('linkage_deterministic_links') }}
),

vetoed as (
    select
        response_key,
        graduate_key
    from {{ ref('linkage_decisions') }}
    where decision = 'no_match'
),

responses as (
    select
        linkage_responses.*,
        {{ linkage_name_head('linkage_responses.first_name_norm') }} as first_name_head,
        {{ linkage_name_rest('linkage_responses.first_name_norm') }} as first_name_rest,
        {{ linkage_name_head('linkage_responses.last_name_norm') }} as last_name_head,
        {{ linkage_name_rest('linkage_responses.last_name_norm') }} as last_name_rest
    from {{ ref('linkage_responses') }} as linkage_responses
    left join deterministic on linkage_responses.response_number = deterministic.response_number
    where deterministic.response_number is null
),

graduates as (
    select
        *,
        {{ linkage_name_head('first_name_norm') }} as first_name_head,
        {{ linkage_name_rest('first_name_norm') }} as first_name_rest,
        {{ linkage_name_head('last_name_norm') }} as last_name_head,
        {{ linkage_name_rest('last_name_norm') }} as last_name_rest
    from {{ ref('linkage_graduates') }}
),

-- Blocking keys carry the row numbers: pairs are built, de-duplicated and ranked on integers.
response_keys as (
    select
        response_number,
        implied_graduation_month,
        school_code,
        {{ linkage_join_key(['key_type', 'key_value', 'school_code']) }} as school_key,
        {{ linkage_join_key(['key_type', 'key_value']) }} as any_school_key
    from (
        {{ linkage_blocking_keys('responses', 'response_number', ['implied_graduation_month'], true) }}
    ) as keys
),

graduate_keys as (
    select
        graduate_number,
        cohort,
        {{ linkage_join_key(['key_type', 'key_value', 'school_code']) }} as school_key,
        {{ linkage_join_key(['key_type', 'key_value']) }} as any_school_key
    from (
        {{ linkage_blocking_keys('graduates', 'graduate_number', ['cohort'], false) }}
    ) as keys
),

-- Same school when the response gives one; any school when it does not. Always the cohort window.
blocked as (
    select
        response_keys.response_number,
        graduate_keys.graduate_number
    from response_keys
    inner join graduate_keys on response_keys.school_key = graduate_keys.school_key
    where
        response_keys.school_code is not null
        and {{ linkage_in_cohort_window('response_keys.implied_graduation_month', 'graduate_keys.cohort') }}
    union all
    select
        response_keys.response_number,
        graduate_keys.graduate_number
    from response_keys
    inner join graduate_keys on response_keys.any_school_key = graduate_keys.any_school_key
    where
        response_keys.school_code is null
        and {{ linkage_in_cohort_window('response_keys.implied_graduation_month', 'graduate_keys.cohort') }}
),

pairs as (
    select distinct
        response_number,
        graduate_number
    from blocked
),

compared as (
    select
        responses.response_number,
        responses.response_key,
        graduates.graduate_number,
        graduates.graduate_key,
        {{ linkage_name_similarity(r_first, g_first) }} as first_direct,
        {{ linkage_name_similarity(r_last, g_last) }} as last_direct,
        {{ linkage_name_similarity(r_first, g_last) }} as first_swapped,
        {{ linkage_name_similarity(r_last, g_first) }} as last_swapped,
        case
            when responses.birth_date is null then null
            when graduates.birth_date is null then 'not_in_register'
            when responses.birth_date = graduates.birth_date then 'exact'
            when
                extract(year from responses.birth_date) = extract(year from graduates.birth_date)
                and extract(month from responses.birth_date) = extract(day from graduates.birth_date)
                and extract(day from responses.birth_date) = extract(month from graduates.birth_date)
                then 'day_month_swapped'
            when
                case
                    when extract(year from responses.birth_date) = extract(year from graduates.birth_date)
                        then 1
                    else 0
                end
                + case
                    when extract(month from responses.birth_date) = extract(month from graduates.birth_date)
                        then 1
                    else 0
                end
                + case
                    when extract(day from responses.birth_date) = extract(day from graduates.birth_date)
                        then 1
                    else 0
                end
                = 2
                then 'one_field_off'
            else 'different'
        end as birth_date_agreement,
        case
            when responses.email_norm is null then null
            when graduates.email_norm is null then 'not_in_register'
            when responses.email_norm = graduates.email_norm then 'exact'
            when
                abs(length(responses.email_norm) - length(graduates.email_norm)) <= 2
                and {{ linkage_levenshtein('responses.email_norm', 'graduates.email_norm') }} <= 2
                then 'edit_distance_le_2'
            else 'different'
        end as email_agreement,
        case
            when responses.national_id is null then null
            when graduates.national_id is null then 'not_in_register'
            when responses.national_id = graduates.national_id then 'exact'
            when
                abs(length(responses.national_id) - length(graduates.national_id)) <= 2
                then
                    case {{ linkage_damerau_levenshtein('responses.national_id', 'graduates.national_id') }}
                        when 1 then 'one_edit'
                        when 2 then 'two_edits'
                        else 'different'
                    end
            else 'different'
        end as national_id_agreement
    from pairs
    inner join responses on pairs.response_number = responses.response_number
    inner join graduates on pairs.graduate_number = graduates.graduate_number
    left join vetoed
        on
            responses.response_key = vetoed.response_key
            and graduates.graduate_key = vetoed.graduate_key
    where vetoed.response_key is null
),

-- Similarities 0-1 and the weight each field gets in the score (0 = not compared). A field the
-- respondent gave that the register lacks, and an e-mail address that differs, are weak evidence
-- against a match (people change addresses): weight 0.05 with similarity 0.
components as (
    select
        response_number,
        response_key,
        graduate_number,
        graduate_key,
        names_swapped,
        case when names_swapped then first_swapped else first_direct end as first_name_similarity,
        case when names_swapped then last_swapped else last_direct end as last_name_similarity,
        birth_date_agreement,
        cast(
            case birth_date_agreement
                when 'exact' then 1.0
                when 'day_month_swapped' then 0.9
                when 'one_field_off' then 0.7
                when 'different' then 0.0
                when 'not_in_register' then 0.0
            end as {{ linkage_type_score() }}
        ) as birth_date_similarity,
        case
            when birth_date_agreement is null then 0
            when birth_date_agreement = 'not_in_register' then {{ w_weak }}
            else {{ w_birth }}
        end as birth_date_weight,
        email_agreement,
        cast(
            case email_agreement
                when 'exact' then 1.0
                when 'edit_distance_le_2' then 0.6
                when 'different' then 0.0
                when 'not_in_register' then 0.0
            end as {{ linkage_type_score() }}
        ) as email_similarity,
        case
            when email_agreement is null then 0
            when email_agreement in ('different', 'not_in_register') then {{ w_weak }}
            else {{ w_email }}
        end as email_weight,
        national_id_agreement,
        cast(
            case national_id_agreement
                when 'exact' then 1.0
                when 'one_edit' then 0.9
                when 'two_edits' then 0.8
                when 'different' then 0.0
                when 'not_in_register' then 0.0
            end as {{ linkage_type_score() }}
        ) as national_id_similarity,
        -- A national id the register lacks is not compared (weight 0): a rival whose id agrees exactly
        -- was linked by the identifier rule, one within an edit wins by the near-id rule below.
        case
            when national_id_agreement is null or national_id_agreement = 'not_in_register' then 0
            when national_id_agreement = 'different' then {{ w_weak }}
            else {{ w_national_id }}
        end as national_id_weight
    from (
        select
            *,
            {{ w_first }} * coalesce(first_swapped, 0) + {{ w_last }} * coalesce(last_swapped, 0)
            > {{ w_first }} * coalesce(first_direct, 0) + {{ w_last }} * coalesce(last_direct, 0)
                as names_swapped
        from compared
    ) as oriented
),

weighted as (
    select
        *,
        case when first_name_similarity is not null then {{ w_first }} else 0 end as first_name_weight,
        case when last_name_similarity is not null then {{ w_last }} else 0 end as last_name_weight
    from components
),

scored as (
    select
        response_number,
        response_key,
        graduate_number,
        graduate_key,
        names_swapped,
        first_name_similarity,
        last_name_similarity,
        birth_date_agreement,
        birth_date_similarity,
        email_agreement,
        email_similarity,
        national_id_agreement,
        national_id_similarity,
        -- Identifiers that agree: names (weighted similarity >= 0.85), birth date (exact or day and
        -- month swapped), e-mail (exact), national id (exact or one edit).
        case
            when
                first_name_weight + last_name_weight > 0
                and {{ w_first }} * coalesce(first_name_similarity, 0)
                + {{ w_last }} * coalesce(last_name_similarity, 0)
                >= 0.85 * (first_name_weight + last_name_weight)
                then 1
            else 0
        end
        + case when birth_date_similarity >= 0.85 then 1 else 0 end
        + case when email_similarity = 1.0 then 1 else 0 end
        + case when national_id_agreement in ('exact', 'one_edit') then 1 else 0 end
            as agreeing_identifiers,
        -- One of the two names exactly as in the register (either orientation): support for a near
        -- national id, not an identifier on its own.
        coalesce(first_name_similarity = 1.0 or last_name_similarity = 1.0, false) as one_name_exact,
        -- Both names exactly as in the register and the birth date too (or with day and month swapped).
        coalesce(
            first_name_similarity = 1.0
            and last_name_similarity = 1.0
            and birth_date_agreement in ('exact', 'day_month_swapped'),
            false
        ) as names_and_birth_date_exact,
        cast(
            round(
                (
                    {{ w_first }} * coalesce(first_name_similarity, 0)
                    + {{ w_last }} * coalesce(last_name_similarity, 0)
                    + birth_date_weight * coalesce(birth_date_similarity, 0)
                    + email_weight * coalesce(email_similarity, 0)
                    + national_id_weight * coalesce(national_id_similarity, 0)
                ) / (
                    first_name_weight + last_name_weight + birth_date_weight + email_weight
                    + national_id_weight
                ),
                4
            ) as {{ linkage_type_score() }}
        ) as score
    from weighted
    where first_name_weight + last_name_weight + birth_date_weight + email_weight + national_id_weight > 0
),

ranked as (
    select
        *,
        row_number() over (
            partition by response_number
            order by score desc, agreeing_identifiers desc, graduate_number asc
        ) as candidate_rank,
        lead(score) over (
            partition by response_number
            order by score desc, agreeing_identifiers desc, graduate_number asc
        ) as next_score,
        sum(case when email_agreement = 'exact' then 1 else 0 end) over (
            partition by response_number
        ) as exact_email_candidates,
        sum(case when national_id_supported then 1 else 0 end) over (
            partition by response_number
        ) as supported_national_id_candidates,
        sum(case when names_and_birth_date_exact then 1 else 0 end) over (
            partition by response_number
        ) as exact_candidates,
        max(score) over (partition by response_number) as top_score
    from (
        -- A national id within one edit with a second piece of evidence: one more agreeing identifier
        -- (agreeing_identifiers counts the national id itself) or one name exactly right.
        select
            *,
            coalesce(national_id_agreement in ('exact', 'one_edit'), false)
            and (agreeing_identifiers >= 2 or one_name_exact) as national_id_supported
        from scored
    ) as supported
),

-- The best candidate links when it scores at least the accept threshold, at least two identifiers
-- agree, and it is clearly better than the next: by the margin, as the only candidate whose e-mail
-- address is exactly the respondent's (mailboxes are personal), as the only one with a near national id
-- and a second piece of evidence, or as the only one whose names and birth date are all exactly the
-- respondent's (a rival within the margin then has a name only similar: "menendez gonzalez" against
-- "fernandez gonzalez" is 0.9).
best as (
    select
        response_number,
        score as best_score,
        next_score as second_score,
        close_candidates,
        case
            when
                score >= {{ accept }}
                and agreeing_identifiers >= 2
                and (
                    next_score is null
                    or score - next_score >= {{ margin }}
                    or (email_agreement = 'exact' and exact_email_candidates = 1)
                    or (national_id_supported and supported_national_id_candidates = 1)
                    or (names_and_birth_date_exact and exact_candidates = 1)
                )
                then 'accept'
            -- A national id within one edit is strong evidence by itself (two random 7-digit ids are one
            -- edit apart about once in 70,000 pairs): with a second piece of evidence (birth date, the
            -- names, or one name exactly) and no other candidate so supported, it links whatever the
            -- score, even when the other name or the birth date is wrong.
            when national_id_supported and supported_national_id_candidates = 1 then 'accept'
            when score >= {{ accept }} and agreeing_identifiers >= 2 then 'ambiguous'
            when score >= {{ accept }} then 'single_identifier'
            when score >= {{ review }} then 'below_accept'
        end as response_outcome
    from (
        select
            *,
            sum(case when score >= top_score - {{ margin }} then 1 else 0 end) over (
                partition by response_number
            ) as close_candidates
        from ranked
    ) as counted
    where candidate_rank = 1
),

decided as (
    select
        ranked.*,
        best.best_score,
        best.second_score,
        best.close_candidates,
        case
            when best.response_outcome = 'accept' and ranked.candidate_rank = 1 then 'accept'
            when best.response_outcome = 'accept' then 'reject'
            when ranked.score >= {{ review }} and {{ in_review_reach }} then 'review'
            else 'reject'
        end as outcome,
        case
            when best.response_outcome <> 'accept' and ranked.score >= {{ review }} and {{ in_review_reach }}
                then best.response_outcome
        end as review_reason
    from ranked
    inner join best on ranked.response_number = best.response_number
)

select
    response_key,
    response_number,
    graduate_key,
    candidate_rank,
    score,
    best_score,
    second_score,
    close_candidates,
    outcome,
    review_reason,
    agreeing_identifiers,
    names_swapped,
    first_name_similarity,
    last_name_similarity,
    birth_date_agreement,
    birth_date_similarity,
    email_agreement,
    email_similarity,
    national_id_agreement,
    national_id_similarity
from decided
where candidate_rank <= 3 or outcome <> 'reject'
