{#- One Beta(prior_alpha, prior_beta) CTR prior per placement, by the method of moments (see _ctr__models.yml). -#}
{%- set min_impressions = [warehouse_ml.checked_var('ctr_prior_min_impressions'), 1] | max -%}
{#- The fewest qualifying ads a prior is fitted on (a variance needs two; three is the least that is not a
    coin toss), and prior_alpha + prior_beta of the fallback prior (worth 10 impressions). -#}
{%- set min_ads = 3 -%}
{%- set fallback_strength = 10.0 -%}

with

ad_placements as (
    select * from {{ ref('int_ad_placements_aggregated') }}
),

ad_rates as (
    select
        placement,
        impressions,
        clicks,
        impressions >= {{ min_impressions }} as is_used,
        case
            when impressions >= {{ min_impressions }} then cast(clicks as double) / impressions
        end as click_through_rate
    from ad_placements
),

{# Exact (decimal) sums: the same bits whatever order the engine's threads add the rows in. #}
placement_moments as (
    select
        placement,
        count(click_through_rate) as ads_used,
        {{ exact_mean('click_through_rate') }} as mean_rate,
        {{ exact_mean('click_through_rate * (1 - click_through_rate) / impressions') }} as binomial_noise,
        (cast(sum(case when is_used then clicks else 0 end) as double) + 0.5)
        / (cast(sum(case when is_used then impressions else 0 end) as double) + 1.0) as pooled_rate
    from ad_rates
    group by placement
),

{# Sample variance (n - 1) of the used ads' CTRs, around their mean: a second pass, as numerically sound as numpy's. #}
placement_variances as (
    select
        ad_rates.placement,
        {{ exact_sum(
            '(ad_rates.click_through_rate - placement_moments.mean_rate)'
            ~ ' * (ad_rates.click_through_rate - placement_moments.mean_rate)'
        ) }}
        / nullif(cast(placement_moments.ads_used - 1 as double), 0) as observed_variance
    from ad_rates
    inner join placement_moments
        on ad_rates.placement = placement_moments.placement
    where ad_rates.is_used
    group by
        ad_rates.placement,
        placement_moments.ads_used
),

{# The observed variance less the binomial noise is what the ads really differ by; a Beta distribution
    has these moments only when it lies in (0, mean * (1 - mean)). #}
placement_fits as (
    select
        placement_moments.placement,
        placement_moments.ads_used,
        placement_moments.mean_rate,
        placement_moments.pooled_rate,
        placement_variances.observed_variance - placement_moments.binomial_noise as true_variance,
        coalesce(
            placement_moments.mean_rate > 0
            and placement_moments.mean_rate < 1
            and placement_variances.observed_variance - placement_moments.binomial_noise > 0
            and placement_variances.observed_variance - placement_moments.binomial_noise
            < placement_moments.mean_rate * (1 - placement_moments.mean_rate),
            false
        ) as is_moment_fit
    from placement_moments
    left join placement_variances
        on placement_moments.placement = placement_variances.placement
),

fitted_priors as (
    select
        placement,
        ads_used,
        not is_moment_fit as is_fallback_prior,
        case
            when ads_used < {{ min_ads }} then cast({{ sql_error(
                "'cannot fit the CTR prior of placement ''' || placement || ''': only '"
                ~ " || cast(ads_used as string) || ' ads have at least " ~ min_impressions ~ " impressions;"
                ~ " the method of moments needs at least " ~ min_ads ~ ". Fix: lower var ctr_prior_min_impressions"
                ~ " or leave the placement out of var staging_placements.'"
            ) }} as double)
            when is_moment_fit then mean_rate * (mean_rate * (1 - mean_rate) / true_variance - 1)
            else pooled_rate * {{ fallback_strength }}
        end as prior_alpha,
        case
            when is_moment_fit then (1 - mean_rate) * (mean_rate * (1 - mean_rate) / true_variance - 1)
            else (1 - pooled_rate) * {{ fallback_strength }}
        end as prior_beta
    from placement_fits
),

placement_priors as (
    select
        placement,
        prior_alpha,
        prior_beta,
        prior_alpha / (prior_alpha + prior_beta) as prior_mean,
        cast(ads_used as bigint) as ads_used,
        is_fallback_prior
    from fitted_priors
)

select * from placement_priors
