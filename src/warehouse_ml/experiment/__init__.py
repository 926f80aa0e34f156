"""Experiments on a built warehouse, with the project's own pipelines.

:mod:`warehouse_ml.experiment.sampling` measures whether a well-chosen sample trains as well as
all the data (``warehouse-ml experiment sampling``, ``make experiment``); its figures go to
``benchmarks/results/sampling_validity.{json,md}``.
"""
