"""The project's own SQL for the experiment's samples: its macros, rendered by dbt.

Every sample the experiment draws is a macro of ``macros/sampling/`` (``cluster_sample``,
``hash_sample``, ``negative_downsample``, ``stratified_sample``, ``ctr_training_window``) and the
transaction-sample churn features are the ``churn_features`` macro that builds
``fct_customer_churn_features``. One ``dbt compile --inline`` renders them all, each after a
``--@@ <name>`` marker line, over relation names the experiment chooses; nothing is re-written
in Python. The compile uses an in-memory DuckDB (it reads no warehouse) and its own target
folder, so it never touches a build's ``target/`` or database.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from warehouse_ml.errors import WarehouseMLError

PROJECT_DIR = Path(__file__).resolve().parents[3]
"""The dbt project (the repository holding ``src/warehouse_ml``)."""

_MARKER = re.compile(r"^--@@ (\S+)\s*$", re.MULTILINE)


class ExperimentInputError(WarehouseMLError):
    """The experiment cannot run on what it was given (a database, a table, a fraction)."""


class Raw:
    """A Jinja expression passed as is to :func:`call` (e.g. a graph lookup)."""

    def __init__(self, text: str) -> None:
        self.text = text


def _literal(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)  # strings and lists of strings: valid Jinja literals


def call(macro: str, *args: Any, **kwargs: Any) -> str:
    """The Jinja text ``{{ macro(args..., key=value...) }}`` with Python values as literals."""
    parts = [_literal(a) for a in args] + [f"{k}={_literal(v)}" for k, v in kwargs.items()]
    return "{{ " + f"{macro}({', '.join(parts)})" + " }}"


def render(snippets: Mapping[str, str], dbt_vars: str | None = None) -> dict[str, str]:
    """Render Jinja snippets with the project's macros, in one ``dbt compile --inline``.

    Parameters
    ----------
    snippets : mapping of str to str
        Name to Jinja text (e.g. ``"{{ hash_sample('tx', 'transaction_id', 0.1, 42) }}"``).
        The text may read the project's graph (``graph.nodes[...]``) and its vars.
    dbt_vars : str, optional
        ``--vars`` of the build (YAML), so that macros reading vars (the churn windows) render
        what the build rendered.

    Returns
    -------
    dict of str to str
        Name to rendered SQL.
    """
    from dbt.cli.main import dbtRunner

    text = "".join(f"--@@ {name}\n{body}\n" for name, body in snippets.items())
    with tempfile.TemporaryDirectory(prefix="warehouse-ml-experiment-") as target:
        args = [
            "compile",
            "--inline",
            text,
            "--profiles-dir",
            str(PROJECT_DIR / "profiles"),
            "--project-dir",
            str(PROJECT_DIR),
            "--target-path",
            target,
            "--quiet",
        ]
        if dbt_vars:
            args += ["--vars", dbt_vars]
        previous = os.environ.get("WAREHOUSE_ML_DUCKDB_PATH")
        os.environ["WAREHOUSE_ML_DUCKDB_PATH"] = ":memory:"
        shown = io.StringIO()
        try:
            with contextlib.redirect_stdout(shown):
                result = dbtRunner().invoke(args)
        finally:
            if previous is None:
                os.environ.pop("WAREHOUSE_ML_DUCKDB_PATH", None)
            else:
                os.environ["WAREHOUSE_ML_DUCKDB_PATH"] = previous
    if not result.success:
        raise ExperimentInputError(
            f"dbt could not render the experiment's sampling macros ({result.exception}); "
            f"run `dbt parse` in {PROJECT_DIR} to see the error. dbt said: "
            f"{shown.getvalue()[-2000:]}"
        )
    compiled = result.result.results[0].node.compiled_code
    parts = _MARKER.split(compiled)
    rendered = {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}
    missing = sorted(set(snippets) - set(rendered))
    if missing:
        raise ExperimentInputError(f"dbt rendered no SQL for {missing}")
    return rendered
