"""Errors raised by the warehouse_ml library.

Every error is a ``ValueError`` subclass whose message names the object at fault
(a column, a model, a version) and says how to fix it, so a failing dbt Python model
explains itself in one line.
"""

from __future__ import annotations


class WarehouseMLError(ValueError):
    """Base class for the library's errors."""


class EmptyTrainingSetError(WarehouseMLError):
    """The training set has no rows (or no positive total weight)."""


class SingleClassLabelError(WarehouseMLError):
    """The label takes a single value, so a classifier cannot be fitted."""


class InvalidLabelError(WarehouseMLError):
    """The label is missing, null or not binary (0/1 or boolean)."""


class MissingFeatureError(WarehouseMLError):
    """A declared feature column is not in the data."""


class FeatureTypeError(WarehouseMLError):
    """A feature column has a type the model cannot use (or a different type than at training)."""


class ModelNotRegisteredError(WarehouseMLError):
    """The registry holds no version of the requested model."""


class ModelVersionNotFoundError(WarehouseMLError):
    """The pinned model version is not in the registry."""


class ArtifactHashMismatchError(WarehouseMLError):
    """An artifact's bytes do not match the sha256 the registry recorded for them."""


class UntrustedArtifactError(WarehouseMLError):
    """An artifact is not skops (e.g. joblib/pickle), or would build a type outside
    ``training.ARTIFACT_TYPES``."""


class RegistryIntegrityError(WarehouseMLError):
    """A registry row's ``integrity_sha256`` is missing or does not match what the row would run."""


class RegistrySignatureError(RegistryIntegrityError):
    """``WAREHOUSE_ML_REGISTRY_KEY`` is set and a registry row's signature is missing or forged."""


class UnsupportedPipelineError(WarehouseMLError):
    """The pipeline cannot be compiled to SQL (only the linear pipeline can)."""


class ModelSpecError(WarehouseMLError):
    """A model's spec (a row of ml_model_specs) is missing, invalid, or disagrees with its refs."""


class ReportInputError(WarehouseMLError):
    """The database a report is written from lacks a table (or a model) the report reads."""
