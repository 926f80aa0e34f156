"""Run dbt from a test: the project, a throw-away DuckDB, target path and logs, vars as JSON.

Every test that runs dbt goes through :func:`run_dbt`, so each runs the same way: in the project
directory, with anonymous usage stats off, its database at ``<work_dir>/<database>`` and its
target path and logs under ``work_dir`` (tests never share dbt's state).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).with_name("dbt")
DATABASE = "warehouse.duckdb"


def run_dbt(
    command: str,
    work_dir: Path,
    dbt_vars: Mapping[str, Any] | None = None,
    *,
    args: Sequence[str] = (),
    database: str = DATABASE,
    threads: int = 2,
    timeout: int = 900,
) -> subprocess.CompletedProcess[str]:
    """Run ``dbt <command>`` on the project into ``work_dir``.

    Parameters
    ----------
    command : str
        The dbt command, e.g. ``"build"``, ``"run"``, ``"parse"``.
    work_dir : Path
        Scratch folder: the DuckDB file, ``target_<database stem>/`` and ``logs/`` go there.
    dbt_vars : mapping, optional
        Passed as ``--vars`` (see :func:`vars_text`), e.g. ``{"raw_data_path": ...}``.
    args : sequence of str
        More arguments, e.g. ``["--select", "staging"]``.
    database : str
        File name of the DuckDB database inside ``work_dir``.
    threads : int
        ``WAREHOUSE_ML_THREADS``.
    timeout : int
        Seconds before the run is killed.

    Returns
    -------
    subprocess.CompletedProcess
        The finished process; ``stdout`` and ``stderr`` captured as text.
    """
    env = {
        **os.environ,
        "WAREHOUSE_ML_DUCKDB_PATH": str(work_dir / database),
        "WAREHOUSE_ML_THREADS": str(threads),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    full_command = [
        str(DBT),
        command,
        "--profiles-dir",
        str(PROJECT_DIR / "profiles"),
        "--project-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(work_dir / f"target_{Path(database).stem}"),
        "--log-path",
        str(work_dir / "logs"),
        *(["--vars", vars_text(dbt_vars)] if dbt_vars else []),
        *args,
    ]
    return subprocess.run(
        full_command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )


def vars_text(dbt_vars: Mapping[str, Any]) -> str:
    """``dbt_vars`` as dbt reads ``--vars``: YAML (PyYAML), one line.

    Not JSON: dbt parses ``--vars`` with PyYAML, which reads JSON's ``1e-05`` as a string.
    """
    return yaml.safe_dump(dict(dbt_vars), default_flow_style=True, width=10**6).strip()


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    """Everything dbt printed, stdout then stderr."""
    return result.stdout + result.stderr


def copy_database(build: Mapping[str, Any], work_dir: Path, database: str = DATABASE) -> Path:
    """Copy the DuckDB file ``build["db"]`` to ``work_dir / database``; return the copy's path.

    For a test that builds on, or changes, a database another test reads (e.g. conftest's
    ``default_build``): dbt has exited, so the file holds every commit (a leftover ``.wal`` is
    copied too) and the copy is the same warehouse.
    """
    source = Path(build["db"])
    target = work_dir / database
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    return target


def drop_built_from(build: Mapping[str, Any], database: Path, model: str) -> list[str]:
    """Drop from ``database`` (a copy of ``build``'s) the model ``model`` and all built from it.

    The models are found in ``build``'s manifest (its ``child_map``); each one's table or view
    is dropped if present. What is left is the warehouse as a build that stopped before
    ``model`` leaves it. Returns the dropped ``schema.table`` names.
    """
    manifest = json.loads(
        (Path(build["work_dir"]) / "target_warehouse" / "manifest.json").read_text()
    )
    start = f"model.{manifest['metadata']['project_name']}.{model}"
    assert start in manifest["nodes"], f"{model} is not a model of the build"
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node not in seen and node.startswith("model."):
            seen.add(node)
            todo.extend(manifest["child_map"].get(node, []))
    relations = sorted(
        f"{manifest['nodes'][n]['schema']}.{manifest['nodes'][n]['alias']}" for n in seen
    )
    with duckdb.connect(str(database)) as connection:
        kinds = dict(
            connection.execute(
                "select table_schema || '.' || table_name, table_type "
                "from information_schema.tables"
            ).fetchall()
        )
        for relation in relations:
            if relation in kinds:
                kind = "view" if kinds[relation] == "VIEW" else "table"
                connection.execute(f"drop {kind} {relation}")
    return relations
