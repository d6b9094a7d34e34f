-- Every survey response with the graduate it belongs to (null when unlinked), and which response
-- counts: per graduate and wave, the latest complete submission wins. The links come from the
-- linkage crosswalk (restricted.linkage_crosswalk, docs/linkage.md); only its pseudonymous key, method
-- and score cross into this schema.
with responses as (
    select * from {{ ref('stg_surveys__responses') }}
),

crosswalk as (
    select
        response_key,
        graduate_key,
        link_method,
        link_score
    from {{ ref('linkage_crosswalk') }}
),

-- Ranked on the narrow rows only: the window then sorts four columns, not the whole response.
respondent_records as (
    select response_key
    from (
        select
            responses.response_key,
            row_number() over (
                partition by crosswalk.graduate_key, responses.wave
                order by responses.submitted_at desc, responses.response_key desc
            ) as recency
        from responses
        inner join crosswalk on responses.response_key = crosswalk.response_key
        where crosswalk.graduate_key is not null and responses.is_complete
    ) as ranked
    where recency = 1
)

-- Every column of the response (responses.*, so that a new survey item flows through), then the
-- link columns in their documented order: ST06 would reorder the model's columns, AM04 objects to *.
select  -- noqa: ST06
    responses.*,  -- noqa: AM04
    crosswalk.graduate_key,
    coalesce(crosswalk.link_method, 'unlinked') as link_method,
    crosswalk.link_score,
    respondent_records.response_key is not null as is_respondent_record
from responses
left join crosswalk on responses.response_key = crosswalk.response_key
left join respondent_records on responses.response_key = respondent_records.response_key
