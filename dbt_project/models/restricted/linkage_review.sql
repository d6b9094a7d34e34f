-- The pairs a person must decide (docs/linkage.md, "Review workflow"): one row per uncertain pair of a
-- response the automatic linkage could not link, with both sides' normalised identifiers, the score and
-- its components. Pairs already decided in the decisions file, and responses a reviewer already matched,
-- are not shown again.
with candidates as (
    select * from {{ ref('linkage_candidates') }}
    where outcome = 'review'
),

decisions as (
    select * from {{ ref('linkage_decisions') }}
),

manually_matched as (
    select distinct response_key
    from decisions
    where decision = 'match'
),

responses as (
    select * from {{ ref('linkage_responses') }}
),

graduates as (
    select * from {{ ref('linkage_graduates') }}
)

select
    candidates.response_key,
    candidates.graduate_key,
    responses.wave,
    candidates.candidate_rank,
    candidates.score,
    candidates.best_score,
    candidates.second_score,
    candidates.close_candidates,
    candidates.review_reason,
    candidates.agreeing_identifiers,
    candidates.names_swapped,
    candidates.first_name_similarity,
    candidates.last_name_similarity,
    candidates.birth_date_agreement,
    candidates.email_agreement,
    responses.school_code as response_school_code,
    responses.student_id as response_student_id,
    responses.national_id as response_national_id,
    responses.first_name_norm as response_first_name_norm,
    responses.last_name_norm as response_last_name_norm,
    responses.birth_date as response_birth_date,
    responses.email_norm as response_email_norm,
    graduates.school_code as graduate_school_code,
    graduates.cohort as graduate_cohort,
    graduates.student_id as graduate_student_id,
    graduates.national_id as graduate_national_id,
    graduates.first_name_norm as graduate_first_name_norm,
    graduates.last_name_norm as graduate_last_name_norm,
    graduates.birth_date as graduate_birth_date,
    graduates.email_norm as graduate_email_norm
from candidates
inner join responses on candidates.response_key = responses.response_key
inner join graduates on candidates.graduate_key = graduates.graduate_key
left join manually_matched on candidates.response_key = manually_matched.response_key
left join decisions
    on
        candidates.response_key = decisions.response_key
        and candidates.graduate_key = decisions.graduate_key
where
    manually_matched.response_key is null
    and decisions.response_key is null
