{#- CTR training set after a distribution shift: a stratified sample of fct_impression_features by
    product category x placement. Each stratum is sampled at `ctr_stratified_fraction`, and at least
    `ctr_stratified_min_per_stratum` rows (exact mode: guaranteed), so the newly launched category is not
    starved the way a uniform random sample would starve it. A stratum with fewer rows than the minimum
    fails the build. sample_weight (1 / the stratum's rate) restores the population mix. -#}
{%- set seed = var('sampling_seed') -%}
{%- set fraction = var('ctr_stratified_fraction') -%}
{%- set min_per_stratum = var('ctr_stratified_min_per_stratum') -%}
{{ config(
    meta={
        'sampling': {
            'design': 'stratified',
            'population': 'fct_impression_features',
            'strata': ['product_category', 'placement'],
            'allocation': 'proportional',
            'fraction': fraction,
            'min_per_stratum': min_per_stratum,
            'exact': true,
            'key_columns': ['impression_id'],
            'seed': seed,
            'mode': 'portable',
        }
    }
) }}

{#- The macro reads its input several times (stratum counts, candidates, the sample): pass the relation,
    not a CTE over it, or DuckDB materialises the CTE (a full copy of the table). -#}
with

stratified_impressions as (
    {{ stratified_sample(
        ref('fct_impression_features'),
        ['product_category', 'placement'],
        'impression_id',
        seed,
        fraction=fraction,
        min_per_stratum=min_per_stratum,
        exact=true,
        mode='portable',
    ) }}
)

select * from stratified_impressions
