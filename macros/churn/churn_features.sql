{#- churn_features(transactions, observation_dates, customers, products): the select of the churn features (see _churn__macros.yml). -#}
{% macro churn_features(transactions, observation_dates, customers, products) -%}
    {{ return(adapter.dispatch('churn_features', 'warehouse_ml')(transactions, observation_dates, customers, products)) }}
{%- endmacro %}

{% macro default__churn_features(transactions, observation_dates, customers, products) -%}
    {%- for arg_name, arg in [('transactions', transactions), ('observation_dates', observation_dates),
                              ('customers', customers), ('products', products)] -%}
        {%- if arg is none or (arg is string and arg | trim == '') -%}
            {{ exceptions.raise_compiler_error("churn_features: argument " ~ arg_name ~ " must be a relation or CTE name, got '" ~ arg ~ "'") }}
        {%- endif -%}
    {%- endfor -%}
    {%- set windows = churn_feature_windows() -%}
    {%- set lookback = warehouse_ml.checked_var('churn_activity_lookback_days') -%}
    {%- set trend_recent = warehouse_ml.checked_var('churn_trend_recent_days') -%}
    {%- set trend_prior = warehouse_ml.checked_var('churn_trend_prior_days') -%}
    {#- One join covers every window, the population lookback and both trend periods. -#}
    {%- set join_days = warehouse_ml.churn_lookback_days() -%}

with

churn__first_transaction as (
    select min(transaction_date) as first_transaction_date
    from {{ transactions }}
),

{#- A category is new when its first product launched after the first transaction in the data. #}
churn__new_categories as (
    select products.category
    from {{ products }} as products
    cross join churn__first_transaction
    group by
        products.category,
        churn__first_transaction.first_transaction_date
    having min(products.launch_date) > churn__first_transaction.first_transaction_date
),

churn__products as (
    select
        products.product_id,
        churn__new_categories.category is not null as is_new_category
    from {{ products }} as products
    left join churn__new_categories
        on products.category = churn__new_categories.category
),

{#- Customer x product x day first: the range join below then multiplies far fewer rows. #}
churn__customer_product_days as (
    select
        transactions.customer_id,
        transactions.product_id,
        transactions.transaction_date,
        coalesce(churn__products.is_new_category, false) as is_new_category,
        {#- 32-bit on purpose: DuckDB sums BIGINT into a 128-bit HUGEINT, about twice as slow in the big
            aggregation below; a customer never has 2^31 lines of one product on one day. #}
        cast(count(*) as integer) as line_count,
        sum(transactions.amount) as amount,
        cast(sum(transactions.quantity) as integer) as quantity
    from {{ transactions }} as transactions
    left join churn__products
        on transactions.product_id = churn__products.product_id
    group by
        transactions.customer_id,
        transactions.product_id,
        transactions.transaction_date,
        coalesce(churn__products.is_new_category, false)
),

{#- The customer's previous purchase day of the same product (past data only): a product counts once in a
    window, on its first day in the window, i.e. the day whose previous purchase is before the window.
    This replaces a count(distinct product_id) per window (one extra shuffle per window on Spark). #}
churn__customer_product_days_with_previous as (
    select
        customer_id,
        product_id,
        transaction_date,
        is_new_category,
        line_count,
        amount,
        quantity,
        lag(transaction_date) over (
            partition by customer_id, product_id
            order by transaction_date
        ) as previous_product_date
    from churn__customer_product_days
),

{#- Window N covers transaction_date in (observation_date - N, observation_date]. #}
churn__observation_windows as (
    select
        observation_date,
        {{ add_days('observation_date', -join_days) }} as join_start_date,
        {{ add_days('observation_date', -lookback) }} as lookback_start_date,
        {%- for window in windows %}
        {{ add_days('observation_date', -window) }} as window_start_{{ window }}d,
        {%- endfor %}
        {{ add_days('observation_date', -trend_recent) }} as trend_recent_start_date,
        {{ add_days('observation_date', -(trend_recent + trend_prior)) }} as trend_prior_start_date
    from {{ observation_dates }}
),

{#- One range join on the widest period, then conditional sums per window. #}
churn__customer_windows as (
    select
        customer_product_days.customer_id,
        observation_windows.observation_date,
        max(customer_product_days.transaction_date) as last_transaction_date,
        sum(
            case
                when customer_product_days.transaction_date > observation_windows.lookback_start_date
                    then customer_product_days.line_count
                else 0
            end
        ) as lookback_transaction_count,
        {%- for window in windows %}
        {%- set window_start = 'observation_windows.window_start_' ~ window ~ 'd' %}
        sum(
            case
                when customer_product_days.transaction_date > {{ window_start }}
                    then customer_product_days.line_count
                else 0
            end
        ) as window_{{ window }}d_lines,
        sum(
            case
                when customer_product_days.transaction_date > {{ window_start }}
                    then customer_product_days.amount
                else 0
            end
        ) as window_{{ window }}d_amount,
        sum(
            case
                when customer_product_days.transaction_date > {{ window_start }}
                    then customer_product_days.quantity
                else 0
            end
        ) as window_{{ window }}d_units,
        sum(
            case
                when
                    customer_product_days.transaction_date > {{ window_start }}
                    and (
                        customer_product_days.previous_product_date is null
                        or customer_product_days.previous_product_date <= {{ window_start }}
                    )
                    then 1
                else 0
            end
        ) as window_{{ window }}d_products,
        sum(
            case
                when
                    customer_product_days.transaction_date > {{ window_start }}
                    and customer_product_days.is_new_category
                    then customer_product_days.amount
                else 0
            end
        ) as window_{{ window }}d_new_category_amount,
        {%- endfor %}
        sum(
            case
                when customer_product_days.transaction_date > observation_windows.trend_recent_start_date
                    then customer_product_days.line_count
                else 0
            end
        ) as trend_recent_transaction_count,
        sum(
            case
                when
                    customer_product_days.transaction_date > observation_windows.trend_prior_start_date
                    and customer_product_days.transaction_date <= observation_windows.trend_recent_start_date
                    then customer_product_days.line_count
                else 0
            end
        ) as trend_prior_transaction_count,
        sum(
            case
                when customer_product_days.transaction_date > observation_windows.trend_recent_start_date
                    then customer_product_days.amount
                else 0
            end
        ) as trend_recent_amount,
        sum(
            case
                when
                    customer_product_days.transaction_date > observation_windows.trend_prior_start_date
                    and customer_product_days.transaction_date <= observation_windows.trend_recent_start_date
                    then customer_product_days.amount
                else 0
            end
        ) as trend_prior_amount
    from churn__customer_product_days_with_previous as customer_product_days
    inner join churn__observation_windows as observation_windows
        on
            customer_product_days.transaction_date > observation_windows.join_start_date
            and customer_product_days.transaction_date <= observation_windows.observation_date
    group by
        customer_product_days.customer_id,
        observation_windows.observation_date
),

{#- Population: bought in the lookback before the date and signed up on or before it. #}
churn__features as (
    select
        customer_windows.customer_id,
        customer_windows.observation_date,
        {%- for column in feature_set_columns('churn') %}
        {{ column.expression }} as {{ column.name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from churn__customer_windows as customer_windows
    inner join {{ customers }} as customers
        on customer_windows.customer_id = customers.customer_id
    where
        customer_windows.lookback_transaction_count > 0
        and customers.signup_date <= customer_windows.observation_date
)

select * from churn__features
{%- endmacro %}
