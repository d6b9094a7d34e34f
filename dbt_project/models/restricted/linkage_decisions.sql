-- Reviewers' decisions on uncertain pairs, read from the CSV file named by GRADTRACK_LINKAGE_DECISIONS
-- (docs/linkage.md, "Review workflow"); empty when no file is configured. One row per pair: when a
-- pair was decided more than once, the latest decided_on wins, and on the same day no_match wins.
with source as (
    {{ linkage_read_decisions(env_var('GRADTRACK_LINKAGE_DECISIONS', '')) }}
),

cleaned as (
    select
        trim(response_key) as response_key,
        trim(graduate_key) as graduate_key,
        lower(trim(decision)) as decision,
        nullif(trim(decided_by), '') as decided_by,
        {{ dbt.safe_cast("nullif(trim(decided_on), '')", api.Column.translate_type('date')) }} as decided_on,
        nullif(trim(note), '') as note
    from source
    where
        nullif(trim(response_key), '') is not null
        or nullif(trim(graduate_key), '') is not null
),

ranked as (
    select
        *,
        row_number() over (
            partition by response_key, graduate_key
            order by
                decided_on desc nulls last,
                case when decision = 'no_match' then 0 else 1 end asc,
                decided_by asc
        ) as recency
    from cleaned
)

select
    response_key,
    graduate_key,
    decision,
    decided_by,
    decided_on,
    note
from ranked
where recency = 1
