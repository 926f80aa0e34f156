"""Compile the fitted linear pipeline to one SQL query (DuckDB and Spark).

The pipeline built by :func:`warehouse_ml.training.build_pipeline` for
``logistic_regression`` is median imputation and standardisation of numeric columns,
one-hot encoding of categoricals (unknown categories ignored) and a logistic regression.
That is a logit of the form::

    intercept
    + sum_j coef_j * (coalesce(x_j, median_j) - mean_j) / scale_j
    + sum_c (case coalesce(cast(c as string), '__missing__') when 'v' then coef_cv ... else 0 end)

so the compiled SQL has one ``case`` per small categorical column and a ``left join`` to an
inline coefficient table for a large one (never one column per category, which keeps
high-cardinality ids such as ``ad_id`` cheap) and the same arithmetic as
scikit-learn, which gives scores equal within ~1e-12. A negative-downsampling
recalibration ``q = p / (p + (1 - p) / w)`` is folded in as ``+ ln(w)`` on the logit.

Float literals are written in exponent form (``0.25e0``), which DuckDB and Spark 3+/4 both
read as DOUBLE (a plain ``0.25`` would be a DECIMAL in Spark).

The same folded form scores Arrow batches without pandas (:func:`linear_logit_arrow`),
used by :mod:`warehouse_ml.scoring` as its fast path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from warehouse_ml.errors import UnsupportedPipelineError
from warehouse_ml.training import MISSING_CATEGORY

DIALECTS = ("duckdb", "spark")
POPULATION_PLACEHOLDER = "__population__"
"""The relation name in registry-stored scoring queries; see :func:`render`."""
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class NumericTerm:
    """``coef * (coalesce(x, fill) - mean) / scale`` for one numeric column."""

    column: str
    fill: float | None
    mean: float
    scale: float
    coef: float


@dataclass(frozen=True)
class CategoricalTerm:
    """``coef[value]`` (0 for unseen values) for one categorical column."""

    column: str
    categories: tuple[str, ...]
    coefs: tuple[float, ...]


@dataclass(frozen=True)
class LinearLogit:
    """A logistic regression pipeline reduced to its terms."""

    intercept: float
    numeric: tuple[NumericTerm, ...]
    categorical: tuple[CategoricalTerm, ...]


def _unsupported(what: str) -> UnsupportedPipelineError:
    return UnsupportedPipelineError(
        f"cannot compile the pipeline to SQL: {what}; only the linear pipeline "
        "(SimpleImputer/StandardScaler + OneHotEncoder + LogisticRegression) compiles, "
        "score other models with warehouse_ml.scoring"
    )


def _numeric_steps(transformer: object) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, int]:
    """(fill, mean, scale, width) of a numeric transformer."""
    steps = transformer.steps if isinstance(transformer, Pipeline) else [("only", transformer)]
    fill = mean = scale = None
    width = None
    for _, step in steps:
        if step == "passthrough":
            continue
        if isinstance(step, SimpleImputer):
            if not (isinstance(step.missing_values, float) and math.isnan(step.missing_values)):
                raise _unsupported("SimpleImputer must impute NaN")
            fill = np.asarray(step.statistics_, dtype=np.float64)
            width = len(fill)
        elif isinstance(step, StandardScaler):
            if mean is not None:
                raise _unsupported("two StandardScalers")
            width = step.n_features_in_
            mean = step.mean_ if step.mean_ is not None and step.with_mean else np.zeros(width)
            scale = step.scale_ if step.scale_ is not None and step.with_std else np.ones(width)
        else:
            raise _unsupported(f"numeric step {type(step).__name__}")
    if width is None:
        raise _unsupported("numeric transformer without SimpleImputer or StandardScaler")
    if mean is None:
        mean, scale = np.zeros(width), np.ones(width)
    return fill, np.asarray(mean, dtype=np.float64), np.asarray(scale, dtype=np.float64), width


def linear_logit(pipeline: Pipeline) -> LinearLogit:
    """Reduce a fitted linear pipeline to intercept, numeric and categorical terms.

    Raises
    ------
    UnsupportedPipelineError
        For any other pipeline shape.
    """
    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) != 2:
        raise _unsupported("expected Pipeline([('preprocess', ColumnTransformer), ('model', ...)])")
    preprocess, model = pipeline.steps[0][1], pipeline.steps[1][1]
    if not isinstance(preprocess, ColumnTransformer) or not isinstance(model, LogisticRegression):
        raise _unsupported(
            f"steps are {type(preprocess).__name__} and {type(model).__name__}, expected "
            "ColumnTransformer and LogisticRegression"
        )
    if list(model.classes_) != [0, 1] or model.coef_.shape[0] != 1:
        raise _unsupported(
            f"the classifier must be binary with classes [0, 1], not {model.classes_}"
        )
    coef = model.coef_[0]
    position = 0
    numeric: list[NumericTerm] = []
    categorical: list[CategoricalTerm] = []
    for name, transformer, columns in preprocess.transformers_:
        if transformer == "drop" or name == "remainder":
            continue
        columns = list(columns)
        if isinstance(transformer, OneHotEncoder):
            if transformer.drop_idx_ is not None:
                raise _unsupported("OneHotEncoder(drop=...)")
            if transformer.handle_unknown != "ignore":
                raise _unsupported("OneHotEncoder must use handle_unknown='ignore'")
            if getattr(transformer, "infrequent_categories_", None) and any(
                c is not None for c in transformer.infrequent_categories_
            ):
                raise _unsupported("OneHotEncoder with infrequent categories")
            for column, cats in zip(columns, transformer.categories_, strict=True):
                width = len(cats)
                categorical.append(
                    CategoricalTerm(
                        column=column,
                        categories=tuple(str(c) for c in cats),
                        coefs=tuple(float(c) for c in coef[position : position + width]),
                    )
                )
                position += width
        else:
            fill, mean, scale, width = _numeric_steps(transformer)
            if width != len(columns):
                raise _unsupported(f"numeric transformer '{name}' changes the column count")
            for j, column in enumerate(columns):
                numeric.append(
                    NumericTerm(
                        column=column,
                        fill=None if fill is None else float(fill[j]),
                        mean=float(mean[j]),
                        scale=float(scale[j]),
                        coef=float(coef[position + j]),
                    )
                )
            position += width
    if position != len(coef):
        raise _unsupported(f"{position} transformed columns but {len(coef)} coefficients")
    return LinearLogit(float(model.intercept_[0]), tuple(numeric), tuple(categorical))


def sql_double(value: float) -> str:
    """A DOUBLE literal for DuckDB and Spark (exponent form, negatives in parentheses)."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"cannot write the non-finite number {value} as a SQL literal")
    text = repr(value)
    if "e" not in text and "E" not in text:
        text += "e0"
    return f"({text})" if value < 0 else text


def _string_literal(value: str, dialect: str) -> str:
    if dialect == "spark":
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + value.replace("'", "''") + "'"


def _identifier(column: str) -> str:
    if not _IDENTIFIER.match(column):
        raise _unsupported(f"column name '{column}' is not a plain identifier")
    return column


def _categorical_value(column: str, dialect: str, qualifier: str = "") -> str:
    missing = _string_literal(MISSING_CATEGORY, dialect)
    return f"coalesce(cast({qualifier}{_identifier(column)} as string), {missing})"


def _numeric_term(term: NumericTerm, qualifier: str = "") -> str:
    value = f"cast({qualifier}{_identifier(term.column)} as double)"
    if term.fill is not None:
        value = f"coalesce({value}, {sql_double(term.fill)})"
    return (
        f"({value} - {sql_double(term.mean)}) / {sql_double(term.scale)} * {sql_double(term.coef)}"
    )


def _case_term(term: CategoricalTerm, dialect: str, qualifier: str = "") -> str | None:
    branches = "".join(
        f"\n            when {_string_literal(cat, dialect)} then {sql_double(coef)}"
        for cat, coef in zip(term.categories, term.coefs, strict=True)
        if coef != 0.0
    )
    if not branches:
        return None
    value = _categorical_value(term.column, dialect, qualifier)
    return f"(case {value}{branches}\n            else 0.0e0\n        end)"


def _integer_categories(term: CategoricalTerm) -> tuple[float, list[tuple[int, float]]]:
    """(coefficient of the null category, [(integer value, coefficient)]) of a term."""
    missing = 0.0
    pairs = []
    for category, coef in zip(term.categories, term.coefs, strict=True):
        if category == MISSING_CATEGORY:
            missing = coef
            continue
        try:
            pairs.append((int(category), coef))
        except ValueError:
            raise _unsupported(
                f"categorical '{term.column}' is declared integer but has category '{category}'"
            ) from None
    return missing, pairs


def _integer_case_term(term: CategoricalTerm, qualifier: str) -> str:
    missing, pairs = _integer_categories(term)
    column = f"{qualifier}{_identifier(term.column)}"
    branches = f"\n            when {column} is null then {sql_double(missing)}" + "".join(
        f"\n            when {column} = {value} then {sql_double(coef)}" for value, coef in pairs
    )
    return f"(case{branches}\n            else 0.0e0\n        end)"


def _check_dialect(dialect: str) -> None:
    if dialect not in DIALECTS:
        raise ValueError(f"dialect '{dialect}' is not supported; use one of {DIALECTS}")


def _log_rate(negative_downsampling_rate: float | None) -> float:
    if negative_downsampling_rate is None:
        return 0.0
    if not 0.0 < negative_downsampling_rate <= 1.0:
        raise ValueError(
            f"negative downsampling rate must be in (0, 1], got {negative_downsampling_rate}"
        )
    return math.log(negative_downsampling_rate)


def scoring_query(
    pipeline: Pipeline,
    relation: str,
    key_columns: Sequence[str],
    *,
    dialect: str = "duckdb",
    negative_downsampling_rate: float | None = None,
    probability_column: str = "probability",
    max_case_categories: int = 16,
    integer_categoricals: Collection[str] = (),
) -> str:
    """A complete scoring query: keys and probability for every row of ``relation``.

    Categoricals with more than ``max_case_categories`` categories are scored through a
    ``left join`` to an inline ``values`` table of their coefficients (a hash join, much
    faster than a long ``case``); smaller ones through a ``case``. Unknown and null
    categories contribute 0, as in scikit-learn's ``OneHotEncoder(handle_unknown="ignore")``.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Fitted linear pipeline.
    relation : str
        The population: a table name or a parenthesised subquery.
    key_columns : sequence of str
        Columns copied to the output.
    dialect : {"duckdb", "spark"}
    negative_downsampling_rate : float, optional
        Fold in the He et al. recalibration.
    probability_column : str
        Output column name.
    max_case_categories : int
        Largest category count written as a ``case``.
    integer_categoricals : collection of str
        Categorical columns that are integers in the population (see
        ``TrainedModel.integer_categoricals``): compared as integers, not as text, which
        is about twice as fast.
    """
    _check_dialect(dialect)
    logit = linear_logit(pipeline)
    qualifier = "population."
    terms = [sql_double(logit.intercept + _log_rate(negative_downsampling_rate))]
    terms.extend(_numeric_term(term, qualifier) for term in logit.numeric)
    lookups: list[tuple[str, str]] = []
    joins: list[str] = []
    for term in logit.categorical:
        is_integer = term.column in integer_categoricals
        if len(term.categories) <= max_case_categories:
            if is_integer:
                terms.append(_integer_case_term(term, qualifier))
            else:
                case = _case_term(term, dialect, qualifier)
                if case is not None:
                    terms.append(case)
            continue
        name = f"{_identifier(term.column)}_coefficients"
        column = f"{qualifier}{_identifier(term.column)}"
        if is_integer:
            missing, pairs = _integer_categories(term)
            rows = ",\n            ".join(f"({value}, {sql_double(coef)})" for value, coef in pairs)
            condition = f"{column} = {name}.category"
            fallback = f"case when {column} is null then {sql_double(missing)} else 0.0e0 end"
        else:
            rows = ",\n            ".join(
                f"({_string_literal(cat, dialect)}, {sql_double(coef)})"
                for cat, coef in zip(term.categories, term.coefs, strict=True)
            )
            condition = f"{_categorical_value(term.column, dialect, qualifier)} = {name}.category"
            fallback = "0.0e0"
        lookups.append(
            (
                name,
                f"    select * from (\n        values\n            {rows}\n"
                f"    ) as {name}_values (category, coefficient)",
            )
        )
        joins.append(f"left join {name}\n        on {condition}")
        terms.append(f"coalesce({name}.coefficient, {fallback})")
    logit_text = "\n            + ".join(terms)
    keys = "".join(f"        {qualifier}{_identifier(k)},\n" for k in key_columns)
    ctes = [f"population as (\n    select * from {relation}\n)"]
    ctes += [f"{name} as (\n{body}\n)" for name, body in lookups]
    join_text = "".join(f"\n    {j}" for j in joins)
    return (
        "with\n\n"
        + ",\n\n".join(ctes)
        + ",\n\nscored as (\n    select\n"
        + keys
        + f"        1.0e0 / (1.0e0 + exp(-(\n            {logit_text}\n        )))"
        + f" as {_identifier(probability_column)}\n    from population"
        + join_text
        + "\n)\n\nselect * from scored"
    )


def registry_sql(
    pipeline: Pipeline,
    key_columns: Sequence[str],
    *,
    negative_downsampling_rate: float | None = None,
    probability_column: str = "probability",
    integer_categoricals: Collection[str] = (),
) -> dict[str, str]:
    """Scoring queries for every dialect, over :data:`POPULATION_PLACEHOLDER`.

    Stored in the registry at training time (``scoring_sql_duckdb``, ``scoring_sql_spark``);
    a SQL model substitutes its population relation with :func:`render` (or Jinja's
    ``replace``).
    """
    return {
        dialect: scoring_query(
            pipeline,
            POPULATION_PLACEHOLDER,
            key_columns,
            dialect=dialect,
            negative_downsampling_rate=negative_downsampling_rate,
            probability_column=probability_column,
            integer_categoricals=integer_categoricals,
        )
        for dialect in DIALECTS
    }


def render(stored_sql: str, relation: str) -> str:
    """Put ``relation`` in place of :data:`POPULATION_PLACEHOLDER` in a stored query."""
    if POPULATION_PLACEHOLDER not in stored_sql:
        raise ValueError(f"the stored query has no {POPULATION_PLACEHOLDER} placeholder")
    return stored_sql.replace(POPULATION_PLACEHOLDER, relation)


def linear_logit_arrow(
    logit: LinearLogit, batch: pa.RecordBatch, log_rate: float = 0.0
) -> np.ndarray:
    """Evaluate the logit on an Arrow batch (no pandas), matching :func:`scoring_query`."""
    z = np.full(batch.num_rows, logit.intercept + log_rate, dtype=np.float64)
    for term in logit.numeric:
        values = pc.cast(batch.column(term.column), pa.float64())
        if term.fill is not None:
            values = pc.fill_null(values, term.fill)
        x = values.to_numpy(zero_copy_only=False)
        z += (x - term.mean) / term.scale * term.coef
    for term in logit.categorical:
        values = batch.column(term.column)
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        text = pc.fill_null(pc.cast(values, pa.string()), MISSING_CATEGORY)
        index = pc.index_in(text, value_set=pa.array(term.categories, pa.string()))
        coefs = np.append(np.asarray(term.coefs, dtype=np.float64), 0.0)
        position = pc.fill_null(index, len(term.coefs)).to_numpy(zero_copy_only=False)
        z += coefs[position]
    return z
