"""The report's charts: matplotlib figures rendered to inline SVG text.

Each function takes the frames of :class:`warehouse_ml.report.data.ModelData` and returns a
:class:`Chart`: its SVG (no XML prolog, DOCTYPE, metadata or namespace URIs: nothing that
names a URL) and how many data points it draws, so a test can check that every chart has data.
Figures are built with :class:`matplotlib.figure.Figure` (no pyplot global state) and rendered
with a fixed hash salt and no date, so the same tables give the same SVG.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

mpl.rcParams.update(
    {
        "svg.hashsalt": "warehouse_ml",
        "svg.fonttype": "none",  # text stays text: small, selectable, any local sans-serif font
        "font.family": "sans-serif",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
    }
)

SIZE = (5.6, 3.6)
WIDE = (11.4, 3.6)


@dataclass
class Chart:
    """One chart of a model's page."""

    key: str
    title: str
    caption: str
    svg: str
    points: int


def to_svg(figure: Figure) -> str:
    """The figure as an ``<svg>`` element, without prolog, DOCTYPE or metadata."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    # Namespace names, not links, but a URL all the same: HTML parses inline SVG (and xlink:href)
    # without them.
    return re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", text)


def _empty(ax, message: str = "no data") -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)


def roc(frames: dict[str, pd.DataFrame]) -> Chart:
    figure = Figure(figsize=SIZE)
    ax = figure.subplots()
    frame = frames["roc"].sort_values(["dataset", "point"])
    auc = _scalar(frames["metrics"], "roc_auc")
    for dataset, rows in frame.groupby("dataset", sort=True):
        label = f"{dataset} (AUC {auc.get(dataset, float('nan')):.3f})"
        ax.plot(rows["false_positive_rate"], rows["true_positive_rate"], label=label)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8, label="random")
    ax.set(xlabel="false positive rate", ylabel="true positive rate (recall)", xlim=(0, 1))
    ax.legend(loc="lower right")
    return Chart("roc", "ROC curve", "ml_model_roc_curve", to_svg(figure), len(frame))


def pr(frames: dict[str, pd.DataFrame]) -> Chart:
    figure = Figure(figsize=SIZE)
    ax = figure.subplots()
    frame = frames["pr"].sort_values(["dataset", "point"])
    pr_auc = _scalar(frames["metrics"], "pr_auc")
    base = _scalar(frames["metrics"], "observed_rate")
    top = 0.0
    for index, (dataset, rows) in enumerate(frame.groupby("dataset", sort=True)):
        rows = rows[rows["recall"] > 0]  # the (0, 1) end point is a convention, not a measurement
        top = max(top, float(rows["precision"].max()))
        label = f"{dataset} (AP {pr_auc.get(dataset, float('nan')):.3f})"
        line = ax.plot(rows["recall"], rows["precision"], label=label, color=f"C{index}")
        if dataset in base:
            ax.axhline(base[dataset], linestyle=":", linewidth=0.8, color=line[0].get_color())
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, min(1.02, top * 1.15)))
    ax.legend(loc="upper right")
    caption = "ml_model_pr_curve; dotted: the set's positive rate (a random ranking)"
    return Chart("pr", "Precision-recall curve", caption, to_svg(figure), len(frame))


def _scalar(metrics: pd.DataFrame, metric: str) -> dict[str, float]:
    rows = metrics[(metrics["metric"] == metric) & metrics["bin"].isna()]
    return dict(zip(rows["dataset"], rows["value"].astype(float), strict=True))


def _binned(metrics: pd.DataFrame, metric: str) -> pd.DataFrame:
    rows = metrics[metrics["metric"] == metric]
    return rows.pivot_table(index="bin", columns="dataset", values="value", aggfunc="first")


def calibration(frames: dict[str, pd.DataFrame]) -> Chart:
    figure = Figure(figsize=SIZE)
    ax = figure.subplots()
    predicted = _binned(frames["metrics"], "reliability_mean_predicted")
    observed = _binned(frames["metrics"], "reliability_observed_rate")
    points = 0
    top = 0.0
    for dataset in predicted.columns:
        x, y = predicted[dataset].to_numpy(), observed[dataset].to_numpy()
        keep = ~(np.isnan(x) | np.isnan(y))
        points += int(keep.sum())
        top = max(top, float(np.nanmax(np.r_[x[keep], y[keep], 0])))
        ax.plot(x[keep], y[keep], marker="o", label=str(dataset))
    top = min(1.0, top * 1.1 if top > 0 else 1.0)
    ax.plot([0, top], [0, top], linestyle="--", color="grey", linewidth=0.8, label="perfect")
    ax.set(xlabel="mean predicted probability (per bin)", ylabel="observed rate", xlim=(0, top))
    ax.legend(loc="upper left")
    caption = (
        "ml_model_metrics reliability bins (ten equal-width probability bins; empty ones left out)"
    )
    return Chart("calibration", "Calibration (reliability)", caption, to_svg(figure), points)


def gains_lift(frames: dict[str, pd.DataFrame]) -> Chart:
    figure = Figure(figsize=WIDE)
    lift_ax, gains_ax = figure.subplots(1, 2)
    lift = _binned(frames["metrics"], "lift")
    gains = _binned(frames["metrics"], "cumulative_capture")
    width = 0.8 / max(1, len(lift.columns))
    for index, dataset in enumerate(lift.columns):
        lift_ax.bar(
            lift.index + (index - (len(lift.columns) - 1) / 2) * width,
            lift[dataset],
            width=width,
            label=str(dataset),
        )
        gains_ax.plot(
            np.r_[0, gains.index],
            np.r_[0, gains[dataset].to_numpy()],
            marker="o",
            label=str(dataset),
        )
    lift_ax.axhline(1.0, color="grey", linestyle="--", linewidth=0.8)
    lift_ax.set(xlabel="decile (1 = highest scores)", ylabel="lift", xticks=range(1, 11))
    lift_ax.legend(loc="upper right")
    gains_ax.plot([0, 10], [0, 1], color="grey", linestyle="--", linewidth=0.8, label="random")
    gains_ax.set(
        xlabel="deciles targeted",
        ylabel="share of positives captured",
        xticks=range(0, 11),
        ylim=(0, 1.02),
    )
    gains_ax.legend(loc="lower right")
    points = int(lift.notna().sum().sum() + gains.notna().sum().sum())
    caption = "ml_model_metrics lift and cumulative_capture per decile"
    return Chart("gains_lift", "Gains and lift by decile", caption, to_svg(figure), points)


def score_distribution(frames: dict[str, pd.DataFrame]) -> Chart:
    figure = Figure(figsize=WIDE)
    ax = figure.subplots()
    frame = frames["score_distribution"].sort_values(["dataset", "score_bin"])
    for dataset, rows in frame.groupby("dataset", sort=True):
        centres = (rows["bin_lower"] + rows["bin_upper"]) / 2
        style = {"linewidth": 2.5, "color": "black"} if dataset == "scored_population" else {}
        ax.step(centres, rows["weight_share"], where="mid", label=str(dataset), **style)
    ax.set(xlabel="score", ylabel="share of rows (weighted)")
    ax.legend(loc="upper right")
    caption = (
        "ml_model_score_distribution: the scored population (black) against each evaluation set, "
        "in the version's 20 equal-width score bins"
    )
    return Chart(
        "score_distribution",
        "Score distribution: scored population vs evaluation sets",
        caption,
        to_svg(figure),
        len(frame),
    )


def feature_importance(frames: dict[str, pd.DataFrame], top: int = 20) -> Chart:
    frame = frames["importance"]
    features = (
        frame.groupby("feature_name")["importance_mean"].max().sort_values(ascending=False)
    ).index[:top][::-1]
    figure = Figure(figsize=(WIDE[0], max(2.5, 0.28 * len(features) + 1)))
    ax = figure.subplots()
    datasets = sorted(frame["dataset"].unique())
    height = 0.8 / max(1, len(datasets))
    for index, dataset in enumerate(datasets):
        rows = frame[frame["dataset"] == dataset].set_index("feature_name").reindex(features)
        ax.barh(
            np.arange(len(features)) + (index - (len(datasets) - 1) / 2) * height,
            rows["importance_mean"],
            height=height,
            xerr=rows["importance_std"],
            label=str(dataset),
        )
    ax.set_yticks(np.arange(len(features)), labels=list(features))
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set(xlabel="drop in ROC AUC when the feature is permuted")
    ax.legend(loc="lower right")
    caption = (
        f"ml_model_feature_importance: permutation importance, top {top} features, "
        "mean and standard deviation over 5 repeats"
    )
    return Chart(
        "feature_importance",
        "Feature importance (permutation)",
        caption,
        to_svg(figure),
        len(frame),
    )


def coefficients(frames: dict[str, pd.DataFrame], top: int = 20) -> Chart:
    frame = frames["coefficients"]
    terms = frame[frame["term"] != "(intercept)"]
    terms = terms.reindex(terms["coefficient"].abs().sort_values(ascending=False).index)[:top]
    terms = terms.iloc[::-1]
    figure = Figure(figsize=(WIDE[0], max(2.5, 0.28 * len(terms) + 1)))
    ax = figure.subplots()
    colours = ["C3" if value < 0 else "C0" for value in terms["coefficient"]]
    ax.barh(np.arange(len(terms)), terms["coefficient"], color=colours)
    ax.set_yticks(np.arange(len(terms)), labels=list(terms["term"]))
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set(xlabel="coefficient (log-odds; numeric features standardised)")
    caption = f"ml_model_coefficients: the {top} largest terms by absolute value"
    return Chart(
        "coefficients", "Logistic regression coefficients", caption, to_svg(figure), len(frame)
    )


def representativeness(frames: dict[str, pd.DataFrame]) -> Chart:
    frame = frames["representativeness"]
    features = frame[frame["check_type"] == "feature"].sort_values("check_subject")
    strata = frame[frame["check_type"] == "stratum"].sort_values("check_subject")
    figure = Figure(figsize=(WIDE[0], max(3.0, 0.25 * len(features) + 1)))
    psi_ax, strata_ax = figure.subplots(1, 2, width_ratios=[3, 2])
    y = np.arange(len(features))
    psi_ax.barh(y - 0.2, features["psi"], height=0.4, label="PSI")
    psi_ax.barh(y + 0.2, features["ks_statistic"], height=0.4, label="KS statistic")
    psi_ax.axvline(0.1, color="C3", linestyle="--", linewidth=0.8, label="PSI 0.1")
    psi_ax.set_yticks(y, labels=list(features["check_subject"]))
    psi_ax.set(xlabel="sample vs population (0 = same)")
    psi_ax.legend(loc="lower right")
    x = np.arange(len(strata))
    strata_ax.bar(x - 0.2, strata["expected_sample_rows"], width=0.4, label="expected")
    strata_ax.bar(x + 0.2, strata["sample_rows"], width=0.4, label="sampled")
    strata_ax.set_xticks(x, labels=list(strata["check_subject"]), rotation=45, ha="right")
    strata_ax.set(ylabel="rows per stratum")
    strata_ax.legend(loc="upper right")
    caption = (
        "rpt_sample_representativeness for the training set: PSI and KS per feature (weighted "
        "sample against the population it was drawn from), expected vs sampled rows per stratum"
    )
    return Chart("representativeness", "Sample vs population", caption, to_svg(figure), len(frame))


def charts_of(frames: dict[str, pd.DataFrame], linear: bool) -> list[Chart]:
    """Every chart of a model's page, in page order (coefficients for linear models only)."""
    charts = [
        roc(frames),
        pr(frames),
        calibration(frames),
        gains_lift(frames),
        score_distribution(frames),
        feature_importance(frames),
    ]
    if linear:
        charts.append(coefficients(frames))
    charts.append(representativeness(frames))
    return charts


def _curve(ax, points: list[dict], x_key: str, metric: str, label: str) -> int:
    """Mean ± standard deviation over seeds of ``metric`` against ``x_key``; points drawn."""
    xs, means, stds = [], [], []
    for point in points:
        figures = point["summary"].get(metric)
        if figures and figures.get("mean") is not None:
            xs.append(point[x_key])
            means.append(figures["mean"])
            stds.append(figures.get("std") or 0.0)
    if xs:
        ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, label=label)
    return len(xs)


def sampling_learning_curve(results: dict) -> Chart:
    """Churn ROC AUC (holdout, out of time) and fit time over the customer fraction."""
    figure = Figure(figsize=SIZE)
    ax = figure.subplots()
    curve = results["churn"]["learning_curve"]
    points = 0
    for dataset in ("out_of_time", "holdout"):
        points += _curve(ax, curve, "fraction", f"{dataset}.roc_auc", f"ROC AUC, {dataset}")
    ax.set(xscale="log", xlabel="share of customers (cluster sample)", ylabel="ROC AUC")
    seconds = ax.twinx()
    seconds.plot(
        [p["fraction"] for p in curve],
        [p["summary"]["train_seconds"]["mean"] for p in curve],
        color="grey",
        linestyle=":",
        marker=".",
        label="fit seconds (right)",
    )
    seconds.set(ylabel="fit seconds")
    seconds.grid(False)
    handles, labels = ax.get_legend_handles_labels()
    more, more_labels = seconds.get_legend_handles_labels()
    ax.legend(handles + more, labels + more_labels, loc="lower right")
    return Chart(
        "sampling_learning_curve",
        "Churn learning curve",
        "sampling_validity.json: mean ± sd over seeds",
        to_svg(figure),
        points,
    )


def sampling_negative_rates(results: dict) -> Chart:
    """CTR normalized entropy on the evaluation day (all, new category) over the negative rate."""
    figure = Figure(figsize=SIZE)
    ax = figure.subplots()
    rates = results["ctr"]["negative_rates"]
    points = 0
    for dataset in ("evaluation_day", "evaluation_day_new_category"):
        points += _curve(ax, rates, "negative_rate", f"{dataset}.normalized_entropy", dataset)
    ax.set(xscale="log", xlabel="share of negatives kept", ylabel="normalized entropy")
    ax.invert_xaxis()
    ax.legend(loc="upper left")
    return Chart(
        "sampling_negative_rates",
        "CTR over negative rates",
        "sampling_validity.json: recalibrated as the spec declares; mean ± sd over seeds",
        to_svg(figure),
        points,
    )
