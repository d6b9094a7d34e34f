{#- The indicator catalogue (shared/spec/indicators.md) as data: one entry per indicator and source.
    int_indicator_aggregates generates its flag and aggregate columns from it, dim_indicator
    documents it, and the tests check it against the spec. Expressions are SQL over the columns of
    int_indicator_base and the shared conditions of indicator_atoms().

    entry keys:
      indicator   code published in marts.indicators
      family      participation | status | job_quality | further_studies | unemployment |
                  expectations | skills_alumni | eqavet_admin
      source      survey | admin | combined | survey_weighted
      kind        count       numerator = value = rows in base (no denominator)
                  proportion  numerator = rows in base meeting `numerator` (weighted: sum of weights)
                  median      value = median of `numerator` over the base; denominator = rows in base
                  ratio       numerator, denominator = sums of `numerator`, `denominator` over the base
                  difference  value = share meeting `numerator` in base minus in `comparison`
      waves       waves the indicator is published for
      scope       register: any active source; else the source's own activity (int_indicator_aggregates)
      rows        graduates (default: one row per graduate and wave) or responses (paradata)
      base, numerator, denominator, comparison: SQL
      definition  one line for analysts -#}
{% macro indicator_catalogue() -%}
    {%- set all_waves = ['pre_graduation', 'm6', 'm18'] -%}
    {%- set post = ['m6', 'm18'] -%}
    {#- conditions shared by many entries: boolean columns computed once per row (indicator_atoms) -#}
    {%- set employed = 'is_employed_status' -%}
    {%- set placed = 'is_placed_status' -%}
    {%- set respondents = 'is_respondent' -%}
    {%- set status_known = 'has_status' -%}
    {%- set wage_earners = 'is_wage_earner' -%}
    {%- set studying = 'is_studying' -%}
    {%- set unemployed = 'is_unemployed' -%}
    {%- set entries = [] -%}

    {#- participation and paradata -#}
    {%- do entries.append({'indicator': 'graduates', 'family': 'participation', 'source': 'survey',
        'kind': 'count', 'waves': all_waves, 'scope': 'register', 'base': 'is_graduate_row',
        'definition': 'number of graduates in the register (value = numerator)'}) -%}
    {%- do entries.append({'indicator': 'share_women', 'family': 'participation', 'source': 'survey',
        'kind': 'proportion', 'waves': all_waves, 'scope': 'register', 'base': 'is_graduate_row',
        'numerator': "sex = 'F'", 'definition': 'graduates with sex F / graduates'}) -%}
    {%- do entries.append({'indicator': 'response_rate', 'family': 'participation', 'source': 'survey',
        'kind': 'proportion', 'waves': all_waves, 'base': 'is_graduate_row', 'numerator': respondents,
        'definition': 'respondents in the wave / graduates'}) -%}
    {%- do entries.append({'indicator': 'completion_rate', 'family': 'participation', 'source': 'survey',
        'kind': 'proportion', 'waves': all_waves, 'rows': 'responses', 'base': 'is_response',
        'numerator': 'is_complete_response',
        'definition': "complete responses / started responses (all responses in the wave's files, linked or not)"}) -%}
    {%- do entries.append({'indicator': 'median_minutes_to_complete', 'family': 'participation',
        'source': 'survey', 'kind': 'median', 'waves': all_waves, 'rows': 'responses',
        'base': 'is_response and is_complete_response and minutes_to_complete is not null',
        'numerator': 'minutes_to_complete',
        'definition': 'median of submitted_at - started_at over complete responses, in minutes'}) -%}
    {%- do entries.append({'indicator': 'linked_across_waves_rate', 'family': 'participation',
        'source': 'survey', 'kind': 'proportion', 'waves': post, 'base': respondents,
        'numerator': 'responded_pre_graduation',
        'definition': 'graduates who responded in both pre_graduation and this wave / respondents in this wave'}) -%}

    {#- status (base: respondents who gave a current_status) -#}
    {%- for status in gradtrack_codes('current_status') -%}
        {%- for source in ['survey', 'survey_weighted'] -%}
            {%- do entries.append({'indicator': 'status_' ~ status, 'family': 'status', 'source': source,
                'kind': 'proportion', 'waves': post, 'base': status_known,
                'numerator': "current_status = '" ~ status ~ "'",
                'definition': 'share of respondents with current_status ' ~ status}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for source in ['survey', 'survey_weighted'] -%}
        {%- do entries.append({'indicator': 'employed_share', 'family': 'status', 'source': source,
            'kind': 'proportion', 'waves': post, 'base': status_known, 'numerator': employed,
            'definition': 'work + work_and_study + self_employed'}) -%}
        {%- do entries.append({'indicator': 'studying_share', 'family': 'status', 'source': source,
            'kind': 'proportion', 'waves': post, 'base': status_known,
            'numerator': 'is_studying_status',
            'definition': 'further_studies + work_and_study'}) -%}
    {%- endfor -%}

    {#- job quality (base: respondents in work or work_and_study who answered the item) -#}
    {%- set job_items = [
        ('job_related_to_qualification', 'job_related_to_qualification', 'yes'),
        ('job_partly_related_to_qualification', 'job_related_to_qualification', 'partly'),
        ('part_time_share', 'working_time', 'part_time'),
        ('permanent_contract_share', 'contract_type', 'permanent'),
        ('wage_below_1000_share', 'monthly_net_wage_band', 'lt1000'),
        ('jobseeking_while_employed_share', 'job_seeking_while_employed', 'yes'),
        ('unpaid_extra_hours_share', 'unpaid_extra_hours', 'yes'),
        ('first_job_within_1_month', 'months_to_first_job', 'lt1'),
    ] -%}
    {%- for channel in gradtrack_codes('job_found_via') -%}
        {%- do job_items.append(('job_found_via_' ~ channel, 'job_found_via', channel)) -%}
    {%- endfor -%}
    {%- for indicator, item, code in job_items -%}
        {%- do entries.append({'indicator': indicator, 'family': 'job_quality', 'source': 'survey',
            'kind': 'proportion', 'waves': post,
            'base': wage_earners ~ ' and answered_' ~ item,
            'numerator': item ~ " = '" ~ code ~ "'",
            'definition': item ~ ' = ' ~ code ~ ' among respondents in work or work_and_study who answered'}) -%}
    {%- endfor -%}

    {#- further studies (base: respondents in further_studies or work_and_study who answered) -#}
    {%- for level in gradtrack_codes('study_level') -%}
        {%- do entries.append({'indicator': 'study_level_' ~ level, 'family': 'further_studies',
            'source': 'survey', 'kind': 'proportion', 'waves': post,
            'base': studying ~ ' and answered_study_level',
            'numerator': "study_level = '" ~ level ~ "'",
            'definition': 'study_level = ' ~ level ~ ' among respondents studying'}) -%}
    {%- endfor -%}
    {%- do entries.append({'indicator': 'study_related_to_qualification', 'family': 'further_studies',
        'source': 'survey', 'kind': 'proportion', 'waves': post,
        'base': studying ~ ' and answered_study_related_to_qualification',
        'numerator': "study_related_to_qualification = 'yes'",
        'definition': 'study_related_to_qualification = yes among respondents studying'}) -%}
    {%- do entries.append({'indicator': 'combining_work_and_study', 'family': 'further_studies',
        'source': 'survey', 'kind': 'proportion', 'waves': post, 'base': studying,
        'numerator': "current_status = 'work_and_study'",
        'definition': 'status work_and_study among respondents studying'}) -%}

    {#- unemployment (base: unemployed respondents who answered) -#}
    {%- do entries.append({'indicator': 'had_job_since_graduation', 'family': 'unemployment',
        'source': 'survey', 'kind': 'proportion', 'waves': post,
        'base': unemployed ~ ' and answered_had_job_since_graduation',
        'numerator': "had_job_since_graduation = 'yes'",
        'definition': 'had_job_since_graduation = yes among unemployed respondents'}) -%}
    {%- for reason in gradtrack_codes('unemployment_reasons') -%}
        {%- do entries.append({'indicator': 'unemployment_reason_' ~ reason, 'family': 'unemployment',
            'source': 'survey', 'kind': 'proportion', 'waves': post,
            'base': unemployed ~ ' and answered_unemployment_reasons',
            'numerator': gt_has_code('unemployment_reasons_codes', reason),
            'definition': 'reason ' ~ reason ~ ' mentioned among unemployed respondents'}) -%}
    {%- endfor -%}

    {#- expectations -#}
    {%- do entries.append({'indicator': 'labour_market_expectations_met', 'family': 'expectations',
        'source': 'survey', 'kind': 'proportion', 'waves': post,
        'base': status_known ~ ' and planned_labour_market',
        'numerator': employed,
        'definition': 'respondents who planned work, work_and_study or self_employed and now are in one of them'}) -%}
    {%- do entries.append({'indicator': 'study_expectations_met', 'family': 'expectations',
        'source': 'survey', 'kind': 'proportion', 'waves': post,
        'base': status_known ~ ' and planned_studies',
        'numerator': 'is_studying_status',
        'definition': 'respondents who planned further_studies or work_and_study and now are in one of them'}) -%}
    {%- do entries.append({'indicator': 'self_reported_expectations_met', 'family': 'expectations',
        'source': 'survey', 'kind': 'proportion', 'waves': post,
        'base': 'answered_expectations_met',
        'numerator': "expectations_met = 'yes'",
        'definition': 'expectations_met = yes among respondents who answered'}) -%}

    {#- skills, training and alumni (base: respondents of the wave who answered the item) -#}
    {%- for prefix, item in [('relevant_skill_', 'relevant_skills'), ('wish_learned_more_', 'wish_learned_more'),
                             ('alumni_contribution_', 'alumni_contribution')] -%}
        {%- for code in gradtrack_codes(item) -%}
            {%- do entries.append({'indicator': prefix ~ code, 'family': 'skills_alumni',
                'source': 'survey', 'kind': 'proportion', 'waves': all_waves,
                'base': 'answered_' ~ item,
                'numerator': gt_has_code(item ~ '_codes', code),
                'definition': item ~ ': ' ~ code ~ ' mentioned, among respondents who answered'}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- do entries.append({'indicator': 'alumni_contact_consent', 'family': 'skills_alumni',
        'source': 'survey', 'kind': 'proportion', 'waves': ['pre_graduation'],
        'base': 'answered_alumni_contact_consent',
        'numerator': "alumni_contact_consent = 'yes'",
        'definition': 'alumni_contact_consent = yes among respondents who answered'}) -%}

    {#- EQAVET and administrative indicators -#}
    {%- for source in ['survey', 'survey_weighted'] -%}
        {%- do entries.append({'indicator': 'eqavet5a_placement_rate', 'family': 'eqavet_admin',
            'source': source, 'kind': 'proportion', 'waves': post, 'base': status_known, 'numerator': placed,
            'definition': 'respondents in work, work_and_study, self_employed, further_studies or volunteering / respondents'}) -%}
    {%- endfor -%}
    {%- do entries.append({'indicator': 'eqavet5a_placement_rate', 'family': 'eqavet_admin',
        'source': 'combined', 'kind': 'proportion', 'waves': post, 'base': 'is_graduate_row',
        'numerator': '(' ~ status_known ~ ' and ' ~ placed ~ ') or (not ' ~ status_known ~ ' and in_admin_base and admin_employed)',
        'definition': 'graduates placed per their survey answer where they responded, otherwise employed per admin at the reference date / all graduates'}) -%}
    {%- for source in ['survey', 'survey_weighted'] -%}
        {%- do entries.append({'indicator': 'eqavet5b_employment_rate', 'family': 'eqavet_admin',
            'source': source, 'kind': 'proportion', 'waves': post, 'base': status_known, 'numerator': employed,
            'definition': 'respondents in work, work_and_study or self_employed / respondents'}) -%}
    {%- endfor -%}
    {%- do entries.append({'indicator': 'eqavet5b_employment_rate', 'family': 'eqavet_admin',
        'source': 'admin', 'kind': 'proportion', 'waves': post, 'base': 'in_admin_base',
        'numerator': 'admin_employed',
        'definition': 'graduates employed per admin at the reference date / admin base'}) -%}
    {%- do entries.append({'indicator': 'eqavet5b_employment_rate', 'family': 'eqavet_admin',
        'source': 'combined', 'kind': 'proportion', 'waves': post,
        'base': status_known ~ ' or in_admin_base',
        'numerator': '(' ~ status_known ~ ' and ' ~ employed ~ ') or (not ' ~ status_known ~ ' and admin_employed)',
        'definition': 'employed per survey where answered, otherwise per admin / graduates with either'}) -%}
    {%- do entries.append({'indicator': 'eqavet6a_skills_utilisation', 'family': 'eqavet_admin',
        'source': 'survey', 'kind': 'proportion', 'waves': post,
        'base': wage_earners ~ ' and answered_job_related_to_qualification',
        'numerator': "job_related_to_qualification = 'yes'",
        'definition': '= job_related_to_qualification'}) -%}
    {%- do entries.append({'indicator': 'admin_permanent_share', 'family': 'eqavet_admin', 'source': 'admin',
        'kind': 'proportion', 'waves': post, 'base': 'in_admin_base and admin_employed',
        'numerator': "admin_contract_type = 'permanent'",
        'definition': 'admin-employed graduates whose spell at the reference date is permanent / admin-employed'}) -%}
    {%- do entries.append({'indicator': 'admin_part_time_share', 'family': 'eqavet_admin', 'source': 'admin',
        'kind': 'proportion', 'waves': post, 'base': 'in_admin_base and admin_employed',
        'numerator': 'admin_is_part_time',
        'definition': 'spell at the reference date with part_time_pct < 100 / admin-employed'}) -%}
    {%- do entries.append({'indicator': 'admin_median_days_to_first_job', 'family': 'eqavet_admin',
        'source': 'admin', 'kind': 'median', 'waves': post,
        'base': 'in_admin_base and days_to_first_job is not null', 'numerator': 'days_to_first_job',
        'definition': 'median days from graduation to the first spell starting on or after it (up to the reference date)'}) -%}
    {%- do entries.append({'indicator': 'admin_share_of_months_employed', 'family': 'eqavet_admin',
        'source': 'admin', 'kind': 'ratio', 'waves': post, 'base': 'in_admin_base',
        'numerator': 'months_employed', 'denominator': 'months_in_period',
        'definition': 'months employed between graduation and the reference date / all such months, over the admin base'}) -%}
    {%- do entries.append({'indicator': 'survey_admin_employment_agreement', 'family': 'eqavet_admin',
        'source': 'combined', 'kind': 'proportion', 'waves': post,
        'base': status_known ~ ' and in_admin_base',
        'numerator': employed ~ ' = admin_employed',
        'definition': 'respondents in the admin base whose survey employed status equals their admin one / those respondents'}) -%}
    {%- do entries.append({'indicator': 'nonresponse_gap_employment', 'family': 'eqavet_admin',
        'source': 'admin', 'kind': 'difference', 'waves': post,
        'base': 'in_admin_base and is_respondent', 'comparison': 'in_admin_base and not is_respondent',
        'numerator': 'admin_employed',
        'definition': 'admin employment rate of respondents minus that of non-respondents (points of fraction)'}) -%}

    {{ return(entries) }}
{%- endmacro %}

{#- Conditions the entries share, as name -> SQL over int_indicator_base. int_indicator_aggregates
    computes each once per row (coalesced to false) before the entries combine them. An item counts
    as answered by a respondent unless empty or prefer_not (indicators.md: item shares). -#}
{% macro indicator_atoms() -%}
    {%- set atoms = {
        'has_status': 'is_respondent and current_status is not null',
        'is_employed_status': "current_status in ('work', 'work_and_study', 'self_employed')",
        'is_placed_status': "current_status in ('work', 'work_and_study', 'self_employed', 'further_studies', 'volunteering')",
        'is_studying_status': "current_status in ('further_studies', 'work_and_study')",
        'is_wage_earner': "is_respondent and current_status in ('work', 'work_and_study')",
        'is_studying': "is_respondent and current_status in ('further_studies', 'work_and_study')",
        'is_unemployed': "is_respondent and current_status = 'unemployed'",
        'planned_labour_market': "pre_graduation_plan in ('work', 'work_and_study', 'self_employed')",
        'planned_studies': "pre_graduation_plan in ('further_studies', 'work_and_study')",
    } -%}
    {%- for item in [
        'months_to_first_job', 'job_found_via', 'job_related_to_qualification', 'contract_type',
        'working_time', 'unpaid_extra_hours', 'monthly_net_wage_band', 'job_seeking_while_employed',
        'study_level', 'study_related_to_qualification', 'unemployment_reasons', 'had_job_since_graduation',
        'expectations_met', 'relevant_skills', 'wish_learned_more', 'alumni_contact_consent',
        'alumni_contribution'
    ] -%}
        {%- do atoms.update({'answered_' ~ item:
            'is_respondent and ' ~ item ~ " is not null and " ~ item ~ " not in ('', 'prefer_not')"}) -%}
    {%- endfor -%}
    {{ return(atoms) }}
{%- endmacro %}

{#- The breakdowns of marts.indicators and the register column each one groups by. -#}
{% macro indicator_breakdown_columns() -%}
    {{ return({
        'school': 'school_code',
        'country': 'country',
        'region': 'region',
        'sector_group': 'sector_group',
        'professional_family': 'professional_family',
        'qualification': 'qualification_code',
        'eqf_level': 'eqf_level',
        'sex': 'sex',
    }) }}
{%- endmacro %}

{#- Breakdowns to build: var('indicator_breakdowns'), default all (total always included). -#}
{% macro indicator_breakdowns() -%}
    {%- set all_breakdowns = ['total'] + (indicator_breakdown_columns().keys() | list) -%}
    {%- set chosen = var('indicator_breakdowns', all_breakdowns) -%}
    {{ return(['total'] + (chosen | reject('equalto', 'total') | list)) }}
{%- endmacro %}
