"""The model report: one self-contained HTML page per model, and an index page.

``warehouse-ml report --db PATH --out reports/`` reads a built warehouse read-only
(:mod:`warehouse_ml.report.data`) and writes ``<out>/<model>.html`` for every model of
``ml_model_specs`` (its serving version) and ``<out>/index.html``. Charts are matplotlib figures
inlined as SVG (:mod:`warehouse_ml.report.charts`), styles are inline: a page needs no network
and no other file to be viewed, and names no URL. Every chart is a ``<figure data-chart=KEY
data-points=N>``, so a test (or a reader) can check that each one was drawn from data.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from warehouse_ml.report import charts as charts_module
from warehouse_ml.report import data
from warehouse_ml.report.charts import Chart

HEADLINE_METRICS = (
    ("roc_auc", "ROC AUC"),
    ("pr_auc", "PR AUC"),
    ("normalized_entropy", "NE"),
    ("calibration", "calibration"),
    ("calibration_standard_error", "calibration s.e."),
    ("log_loss", "log loss"),
    ("brier", "Brier"),
    ("observed_rate", "positive rate"),
    ("row_count", "rows"),
)
"""The scalar metrics of ``ml_model_metrics`` on each page and the index, with their labels."""

CHART_KEYS = (
    "roc",
    "pr",
    "calibration",
    "gains_lift",
    "score_distribution",
    "feature_importance",
    "representativeness",
)
"""The charts every model page has (linear models add ``coefficients``)."""

THRESHOLD_COLUMNS = (
    "dataset",
    "threshold",
    "predicted_positive_rate",
    "precision",
    "recall",
    "f1",
    "lift",
)
FEATURE_CHECK_COLUMNS = (
    "check_subject",
    "population_mean",
    "sample_mean",
    "psi",
    "ks_statistic",
    "population_rows",
    "sample_rows",
)

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
pre { margin: 0; font-size: 0.85em; white-space: pre-wrap; max-height: 16em; overflow: auto; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
figure.chart { margin: 0; padding: 0.5em; border: 1px solid #eee; }
figure.chart svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.8em; color: #555; max-width: 60em; }
.muted { color: #666; font-size: 0.9em; }
"""


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value != value:
            return '<td class="number">-</td>'
        text = f"{value:,.0f}" if abs(value) >= 1000 or value == int(value) else f"{value:.4g}"
        return f'<td class="number">{text}</td>'
    if isinstance(value, int):
        return f'<td class="number">{value:,}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def table(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> str:
    """An HTML table of ``frame`` (numbers right-aligned, NaN as ``-``)."""
    columns = list(columns or frame.columns)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(_cell(_plain(row[c])) for c in columns) + "</tr>"
        for _, row in frame.iterrows()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, bool):
        return str(value).lower()
    return value


def headline(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset, the :data:`HEADLINE_METRICS` as columns."""
    scalars = metrics[metrics["bin"].isna()]
    wide = scalars.pivot_table(index="dataset", columns="metric", values="value", aggfunc="first")
    wide = wide.reindex(columns=[m for m, _ in HEADLINE_METRICS])
    wide.columns = [label for _, label in HEADLINE_METRICS]
    return wide.reset_index()


def figure_html(chart: Chart) -> str:
    return (
        f'<figure class="chart" id="chart-{chart.key}" data-chart="{chart.key}" '
        f'data-points="{chart.points}"><h3>{html.escape(chart.title)}</h3>{chart.svg}'
        f"<figcaption>{html.escape(chart.caption)}</figcaption></figure>"
    )


def page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def _spec_table(model: data.ModelData) -> str:
    registry = model.registry_row
    alias = model.alias_row
    rows = [
        ("serving version", f"{model.version} ({alias.get('resolved_by')})"),
        ("decision", alias.get("reason")),
        (
            "promotion",
            f"{alias.get('metric_name')} on {alias.get('dataset')}: "
            f"{_number(alias.get('model_metric'))} (champion before: "
            f"{alias.get('champion_version') or '-'} "
            f"{_number(alias.get('champion_metric'))})",
        ),
        ("trained at (UTC)", registry.get("trained_at")),
        ("algorithm", registry.get("algorithm")),
        ("hyperparameters", data.pretty_json(registry.get("hyperparameters"))),
        ("random_state", registry.get("random_state")),
        ("label / weight", f"{registry.get('label')} / {registry.get('weight_column') or 'none'}"),
        ("training set", registry.get("training_set")),
        (
            "training rows / positives / weight",
            f"{_number(registry.get('row_count'))} / {_number(registry.get('positive_count'))} / "
            f"{_number(registry.get('weight_sum'))}",
        ),
        ("negative downsampling rate", _number(registry.get("negative_downsampling_rate"))),
        ("spec fingerprint", registry.get("spec_fingerprint")),
        ("code version", registry.get("code_version")),
        ("features", data.pretty_json(registry.get("features"))),
        ("sampling spec", data.pretty_json(registry.get("sampling_spec"))),
        ("evaluation sets", data.pretty_json(model.spec_row.get("evaluation_sets"))),
        ("library versions", data.pretty_json(registry.get("library_versions"))),
    ]
    body = "".join(
        f"<tr><th>{html.escape(name)}</th><td><pre>{html.escape(str(value))}</pre></td></tr>"
        for name, value in rows
    )
    return f"<table>{body}</table>"


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def model_page(model: data.ModelData, charts: Iterable[Chart]) -> str:
    frames = model.frames
    confusion = frames["confusion"].sort_values(["dataset", "cell"])
    thresholds = frames["thresholds"]
    thresholds = thresholds[thresholds["point"].isin([1, 2, 5, 10, 20, 30, 50])].sort_values(
        ["dataset", "point"]
    )
    features = frames["representativeness"]
    feature_rows = features[features["check_type"] == "feature"].sort_values("psi", ascending=False)
    strata = features[features["check_type"] == "stratum"].sort_values("check_subject")
    threshold_note = ""
    if len(confusion):
        first = confusion.iloc[0]
        threshold_note = (
            f'<p class="muted">Threshold {first["threshold"]:.4g}: the one with the highest F1 '
            f"on {html.escape(str(first['threshold_dataset']))} (the promotion dataset), applied "
            "to every set (ml_model_confusion_matrix).</p>"
        )
    body = f"""
<p class="muted"><a href="index.html">all models</a></p>
<h1>Model {html.escape(model.model_name)}: version {html.escape(model.version)}</h1>
<h2>Headline metrics (ml_model_metrics)</h2>
{table(headline(frames["metrics"]))}
<h2>Charts</h2>
<div class="charts">{"".join(figure_html(chart) for chart in charts)}</div>
<h2>Confusion matrix at the chosen threshold</h2>
{threshold_note}
{table(confusion, ["dataset", "cell", "row_count", "weight", "threshold"])}
<h2>Threshold table (ml_model_threshold_metrics, excerpt)</h2>
{table(thresholds, THRESHOLD_COLUMNS)}
<h2>Sample vs population: {html.escape(str(model.spec_row.get("training_set")))}</h2>
{table(feature_rows, FEATURE_CHECK_COLUMNS)}
{table(strata, ["check_subject", "population_rows", "expected_sample_rows", "sample_rows"])}
<h2>Version and training spec</h2>
{_spec_table(model)}
"""
    return page(f"warehouse_ml model report: {model.model_name}", body)


SAMPLING_RESULTS = Path("benchmarks/results/sampling_validity.json")
"""What ``warehouse-ml experiment sampling`` writes; charted on the index page when present."""


def sampling_section(results_path: Path | None) -> str:
    """The sampling-validity charts, or nothing when the results file is absent."""
    if results_path is None or not Path(results_path).is_file():
        return ""
    results = json.loads(Path(results_path).read_text())
    charts = [
        charts_module.sampling_learning_curve(results),
        charts_module.sampling_negative_rates(results),
    ]
    return (
        "<h2>Sampling validity</h2>"
        f'<p class="muted">From {html.escape(str(results_path))} (warehouse-ml experiment '
        f"sampling on {html.escape(str(results.get('database')))}, seeds "
        f"{html.escape(str(results.get('seeds')))}).</p>"
        f'<div class="charts">{"".join(figure_html(chart) for chart in charts)}</div>'
    )


def index_page(
    models: Sequence[data.ModelData], database: Path, sampling_results: Path | None = None
) -> str:
    sections = []
    for model in models:
        sections.append(
            f'<h2><a href="{html.escape(model.model_name)}.html">{html.escape(model.model_name)}'
            f"</a>: version {html.escape(model.version)} "
            f'<span class="muted">({html.escape(str(model.registry_row.get("algorithm")))}, '
            f"{html.escape(str(model.alias_row.get('resolved_by')))})</span></h2>"
            f"{table(headline(model.frames['metrics']))}"
        )
    body = (
        "<h1>warehouse_ml model report</h1>"
        f'<p class="muted">From {html.escape(str(database))}: the serving (champion) version '
        "of every model of ml_model_specs.</p>"
        + "".join(sections)
        + sampling_section(sampling_results)
    )
    return page("warehouse_ml model report", body)


def write_report(
    db: Path, out: Path, sampling_results: Path | None = SAMPLING_RESULTS
) -> list[Path]:
    """Write ``<out>/<model>.html`` per model and ``<out>/index.html``; return the paths.

    The index page also charts ``sampling_results`` (``warehouse-ml experiment sampling``'s
    JSON) when that file exists.

    Raises
    ------
    warehouse_ml.errors.ReportInputError
        If the database, a table or a model's serving version is missing.
    """
    connection = data.connect(db)
    try:
        models = [data.load_model(connection, name) for name in data.model_names(connection)]
    finally:
        connection.close()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for model in models:
        linear = model.registry_row.get("algorithm") == "logistic_regression"
        path = out / f"{model.model_name}.html"
        path.write_text(model_page(model, charts_module.charts_of(model.frames, linear)))
        written.append(path)
    index = out / "index.html"
    index.write_text(index_page(models, db, sampling_results))
    return [index, *written]
