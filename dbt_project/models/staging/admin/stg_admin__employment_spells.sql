-- Administrative employment spells; an open spell (no end) runs to the extraction date.
-- Column order is the view's interface (spell_end_or_extraction next to spell_end): noqa ST06.
select  -- noqa: ST06
    spell_key,
    person_key,
    employer_key,
    spell_start,
    spell_end,
    coalesce(spell_end, extracted_on) as spell_end_or_extraction,
    contract_type,
    source_contract_code,
    part_time_pct,
    is_part_time,
    nace_section,
    monthly_earnings,
    source,
    extracted_on,
    _source_file,
    _source_line
from {{ source('raw', 'employment_spells') }}
