{#- 95 % Wilson score interval of a proportion p = successes / n (Wilson 1927):

        centre    = (p + z²/2n) / (1 + z²/n)
        half      = z / (1 + z²/n) * sqrt(p (1 - p) / n + z²/4n²)
        low, high = centre - half, centre + half        (clipped to [0, 1], rounded to 6 decimals)

    `proportion` and `n` are SQL expressions; n may be an effective sample size (weighted estimates).
    Null when n is null or not positive. z = 1.96 (two-sided 95 %). -#}
{% macro wilson_interval_bound(proportion, n, bound, z=1.96) -%}
    {%- set z2 = (z * z) | round(10) -%}
    {%- set sign = '-' if bound == 'low' else '+' -%}
    {%- set clip = 'greatest(0.0, ' if bound == 'low' else 'least(1.0, ' -%}
    {%- set limit -%}
        {{ clip }}(
            ({{ proportion }}) + {{ z2 }} / (2.0 * ({{ n }}))
            {{ sign }} {{ z }} * sqrt(
                ({{ proportion }}) * (1.0 - ({{ proportion }})) / ({{ n }})
                + {{ z2 }} / (4.0 * ({{ n }}) * ({{ n }}))
            )
        ) / (1.0 + {{ z2 }} / ({{ n }})))
    {%- endset -%}
    case
        when {{ n }} > 0 and {{ proportion }} is not null
            then {{ gt_round('cast(' ~ limit ~ ' as ' ~ gt_type_double() ~ ')', 6) }}
    end
{%- endmacro %}

{% macro wilson_low(proportion, n, z=1.96) -%}
    {{ wilson_interval_bound(proportion, n, 'low', z) }}
{%- endmacro %}

{% macro wilson_high(proportion, n, z=1.96) -%}
    {{ wilson_interval_bound(proportion, n, 'high', z) }}
{%- endmacro %}
