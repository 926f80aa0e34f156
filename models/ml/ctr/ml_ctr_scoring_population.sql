{#- The impressions of the last ctr_scoring_window_days impression days: what the CTR scorers score. -#}
with

scoring_window as (
    {{ time_window(ref('fct_impression_features'), 'impression_date', var('ctr_scoring_window_days')) }}
)

select * from scoring_window
