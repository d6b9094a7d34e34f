select
    region,
    year,
    indicator,
    value,
    source
from {{ source('raw', 'context_indicators') }}
