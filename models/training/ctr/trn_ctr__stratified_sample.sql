{#- CTR training set after a distribution shift: a stratified sample by product category x placement. -#}
{%- set sampling = {
    'design': 'stratified',
    'population': 'fct_impression_features',
    'strata': ['product_category', 'placement'],
    'allocation': 'proportional',
    'fraction': warehouse_ml.checked_var('ctr_stratified_fraction'),
    'min_per_stratum': warehouse_ml.checked_var('ctr_stratified_min_per_stratum'),
    'exact': true,
    'key_columns': ['impression_id'],
    'seed': warehouse_ml.checked_var('sampling_seed'),
    'mode': 'portable',
} -%}
{{ config(meta={'sampling': sampling}) }}

{#- Pass the relation, not a CTE over it: the macro reads it several times and DuckDB would materialise a CTE. -#}
with

stratified_impressions as (
    {{ stratified_sample(
        ref('fct_impression_features'),
        sampling.strata,
        sampling.key_columns,
        sampling.seed,
        fraction=sampling.fraction,
        allocation=sampling.allocation,
        min_per_stratum=sampling.min_per_stratum,
        exact=sampling.exact,
        mode=sampling.mode,
    ) }}
)

select * from stratified_impressions
