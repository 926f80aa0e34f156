{#- Why churn training data is sampled by customer, demonstrated (see _sampling__models.yml). -#}
{%- set fraction = warehouse_ml.checked_var('churn_lesson_fraction') -%}
{%- set seed = warehouse_ml.checked_var('sampling_seed') -%}
{%- set features = [
    'transaction_count', 'total_amount', 'avg_basket_amount', 'distinct_products', 'recency_days', 'active_span_days',
] -%}
{%- set scaled_features = ['transaction_count', 'total_amount'] -%}
{%- set designs = [
    {'name': 'population', 'source': 'transactions', 'scale': false},
    {'name': 'transaction_sample', 'source': 'transaction_sample', 'scale': false},
    {'name': 'transaction_sample_scaled', 'source': 'transaction_sample', 'scale': true},
    {'name': 'customer_cluster_sample', 'source': 'customer_sample', 'scale': false},
] -%}

with

transactions as (
    select * from {{ ref('stg_shop__transactions') }}
),

as_of as (
    select max(transaction_date) as as_of_date
    from transactions
),

transaction_sample as (
    {{ hash_sample('transactions', 'transaction_id', fraction, seed, mode='portable') }}
),

customer_sample as (
    {{ cluster_sample('transactions', 'customer_id', fraction, seed, mode='portable') }}
),
{% for source in ['transactions', 'transaction_sample', 'customer_sample'] %}
    {{ source }}_by_customer as (
        select
            {{ source }}.customer_id,
            count(*) as transaction_count,
            sum({{ source }}.amount) as total_amount,
            {{ safe_rate('sum(' ~ source ~ '.amount)', 'count(*)') }} as avg_basket_amount,
            cast(count(distinct {{ source }}.product_id) as double) as distinct_products,
            {%- set first_date = 'min(' ~ source ~ '.transaction_date)' %}
            {%- set last_date = 'max(' ~ source ~ '.transaction_date)' %}
            cast({{ days_between(last_date, 'max(as_of.as_of_date)') }} as double) as recency_days,
            cast({{ days_between(first_date, last_date) }} as double) as active_span_days
        from {{ source }}
        cross join as_of
        group by {{ source }}.customer_id
    ),
{% endfor %}
design_means as (
    {%- for design in designs %}
        select
            '{{ design.name }}' as sampling_method,
            {%- for feature in features %}
                {%- if design.scale and feature in scaled_features %}
                    {{ exact_mean(feature) }} / {{ fraction }} as {{ feature }},
                {%- else %}
                    {{ exact_mean(feature) }} as {{ feature }},
                {%- endif %}
            {%- endfor %}
            count(*) as customer_count
        from {{ design.source }}_by_customer
        {%- if not loop.last %}

            union all
        {% endif %}
    {%- endfor %}
),

feature_means as (
    {%- for feature in features %}
        select
            sampling_method,
            '{{ feature }}' as feature_name,
            customer_count,
            cast({{ feature }} as double) as mean_value
        from design_means
        {%- if not loop.last %}

            union all
        {% endif %}
    {%- endfor %}
),

population_means as (
    select
        feature_name,
        customer_count as population_customer_count,
        mean_value as population_mean_value
    from feature_means
    where sampling_method = 'population'
),

lesson as (
    select
        feature_means.sampling_method,
        feature_means.feature_name,
        feature_means.customer_count,
        {{ safe_rate('feature_means.customer_count', 'population_means.population_customer_count') }}
            as customer_coverage_rate,
        feature_means.mean_value,
        population_means.population_mean_value,
        {{ safe_rate(
            'feature_means.mean_value - population_means.population_mean_value',
            'population_means.population_mean_value',
        ) }} as relative_bias
    from feature_means
    inner join population_means
        on feature_means.feature_name = population_means.feature_name
)

select * from lesson
