-- Every survey response (complete or not) with the graduate of the register it belongs to, and how that
-- was established. Precedence: a reviewer's `match` decision (manual_review), then the identifier rules
-- (student_id, token, national_id), then an accepted approximate match (probabilistic); else unlinked.
-- A graduate may have several responses in a wave (resubmissions): which one counts is decided
-- downstream (int_survey_responses_linked.is_respondent_record).
with responses as (
    select
        response_key,
        response_number,
        wave
    from {{ ref('linkage_responses') }}
),

graduates as (
    select graduate_key from {{ ref('linkage_graduates') }}
),

-- The latest `match` decision per response; decisions naming a graduate not in the register are
-- ignored (the relationships test on linkage_decisions reports them).
manual as (
    select
        response_key,
        graduate_key
    from (
        select
            decisions.response_key,
            decisions.graduate_key,
            row_number() over (
                partition by decisions.response_key
                order by decisions.decided_on desc nulls last, decisions.graduate_key asc
            ) as pick
        from {{ ref('linkage_decisions') }} as decisions
        inner join graduates on decisions.graduate_key = graduates.graduate_key
        where decisions.decision = 'match'
    ) as latest
    where pick = 1
),

deterministic as (
    select * from {{ ref('linkage_deterministic_links') }}
),

probabilistic as (
    select
        response_number,
        graduate_key,
        score
    from {{ ref('linkage_candidates') }}
    where outcome = 'accept'
)

select
    responses.response_key,
    responses.wave,
    coalesce(manual.graduate_key, deterministic.graduate_key, probabilistic.graduate_key) as graduate_key,
    case
        when manual.graduate_key is not null then 'manual_review'
        when deterministic.graduate_key is not null then deterministic.link_method
        when probabilistic.graduate_key is not null then 'probabilistic'
        else 'unlinked'
    end as link_method,
    cast(
        case
            when manual.graduate_key is not null then 1.0
            when deterministic.graduate_key is not null then deterministic.link_score
            else probabilistic.score
        end as {{ linkage_type_score() }}
    ) as link_score
from responses
left join manual on responses.response_key = manual.response_key
left join deterministic on responses.response_number = deterministic.response_number
left join probabilistic on responses.response_number = probabilistic.response_number
