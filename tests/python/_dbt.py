"""Run dbt from a test: the project, a throw-away DuckDB, target path and logs, vars as JSON.

Every test that runs dbt goes through :func:`run_dbt`, so each runs the same way: in the project
directory, with anonymous usage stats off, its database at ``<work_dir>/<database>`` and its
target path and logs under ``work_dir``. Tests share no dbt state but the parse: dbt reaches the
database through a per-session link to ``work_dir`` (the same path string each run, so dbt's
profile check passes), and a target path without a parse starts from the ``partial_parse.msgpack``
of the session's first run with the same vars and database name. dbt checks that file against
the vars, profile, target, project and the checksum of every file, and parses again when
anything differs; an unchanged project is not parsed again for each work dir.

dbt runs inside the pytest process (dbt's ``cli`` invoked as the ``dbt`` executable invokes it,
like ``dbtRunner``), with the arguments, environment variables and working directory a ``dbt``
process would get, and what a process would give back: the CLI's exit status, stdout, stderr.
That spares each of the suite's ~150 dbt runs the seconds a new process spends importing dbt,
its adapter and the Python models' libraries. ``WAREHOUSE_ML_TEST_DBT=subprocess`` runs each as
its own ``dbt`` process instead (and a run on another target than DuckDB always is one).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).with_name("dbt")
DATABASE = "warehouse.duckdb"
PARTIAL_PARSE = "partial_parse.msgpack"
_SESSION = tempfile.TemporaryDirectory(prefix="dbt_tests_")  # this process's; removed at exit
_WORK_LINK = Path(_SESSION.name) / "work"  # -> the work dir of the dbt run under way
_parsed: dict[str, Path] = {}  # database name, target and vars -> a copy of that run's parse
_parse_of: dict[Path, str] = {}  # target path -> the key its partial-parse file was made for


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
        Seconds before the run is killed (a run in its own process only: see the module's
        docstring).

    Returns
    -------
    subprocess.CompletedProcess
        The finished process; ``stdout`` and ``stderr`` captured as text.
    """
    _WORK_LINK.unlink(missing_ok=True)
    _WORK_LINK.symlink_to(Path(work_dir).resolve(), target_is_directory=True)
    env = {
        **os.environ,
        "WAREHOUSE_ML_DUCKDB_PATH": str(_WORK_LINK / database),  # = work_dir / database
        "WAREHOUSE_ML_THREADS": str(threads),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    target_path = work_dir / f"target_{Path(database).stem}"
    parsed = target_path / PARTIAL_PARSE
    parse_key = None
    if "--no-partial-parse" not in args:
        target = env.get("WAREHOUSE_ML_TARGET", "")
        parse_key = f"{database}\x00{target}\x00{vars_text(dbt_vars or {})}"
        if parse_key in _parsed and _parse_of.get(target_path) != parse_key:
            target_path.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_parsed[parse_key], parsed)
            _parse_of[target_path] = parse_key
    written_before = parsed.stat().st_mtime_ns if parsed.exists() else None
    full_command = [
        str(DBT),
        command,
        "--profiles-dir",
        str(PROJECT_DIR / "profiles"),
        "--project-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(target_path),
        "--log-path",
        str(work_dir / "logs"),
        *(["--vars", vars_text(dbt_vars)] if dbt_vars else []),
        *args,
    ]
    if _in_process(env, args):
        done = _invoke(full_command, env)
    else:
        done = subprocess.run(
            full_command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=timeout
        )
    written = parsed.exists() and parsed.stat().st_mtime_ns != written_before
    if parse_key is not None and written:  # this run's parse
        _parse_of[target_path] = parse_key
        if parse_key not in _parsed:
            _parsed[parse_key] = Path(_SESSION.name) / f"{len(_parsed)}.msgpack"
            shutil.copyfile(parsed, _parsed[parse_key])
    return done


def _in_process(env: Mapping[str, str], args: Sequence[str]) -> bool:
    """Whether this run goes through ``dbtRunner`` in this process (DuckDB only)."""
    if env.get("WAREHOUSE_ML_TEST_DBT", "") == "subprocess" or "--target" in args:
        return False
    return env.get("WAREHOUSE_ML_TARGET", "duckdb") in ("", "duckdb")


def _invoke(command: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``command`` (``dbt ...``) in this process as the ``dbt`` executable would run it.

    As the executable (click's ``main`` of ``dbt.cli.main.cli``): a failed node exits 1, an error
    dbt handles (printed as "Encountered an error") 2, a usage error prints click's message to
    stderr and exits 2, any other exception prints its traceback to stderr and exits 1. The
    environment and working directory are the process's for the run's length, stdout and stderr
    are captured. Afterwards nothing of the run stays open or attached: dbt-duckdb's database
    handle is closed (tests then open the file, read-only or not), and the library's logger is
    as it was (``warehouse_ml.dbt_log.to_dbt_console`` hands it to dbt's event logger while a
    Python model runs).
    """
    import click
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli import requires
    from dbt.cli.main import cli

    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    library_log = logging.getLogger("warehouse_ml")
    saved_log = (list(library_log.handlers), library_log.level, library_log.propagate)
    stdout, stderr = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(PROJECT_DIR)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            args = list(command[1:])
            try:
                context = cli.make_context(cli.name, args.copy())
                context.obj = {"manifest": None, "callbacks": [], "dbt_runner_command_args": args}
                cli.invoke(context)
                returncode = 0
            except requires.ResultExit:
                returncode = 1
            except requires.ExceptionExit:
                returncode = 2
            except click.exceptions.ClickException as error:
                error.show()
                returncode = error.exit_code
            except click.exceptions.Exit as error:
                returncode = error.exit_code
            except Exception:
                traceback.print_exc()
                returncode = 1
    finally:
        with DuckDBConnectionManager._LOCK:
            if DuckDBConnectionManager._ENV is not None:
                DuckDBConnectionManager._ENV.close()
                DuckDBConnectionManager._ENV = None
        library_log.handlers[:] = saved_log[0]
        library_log.setLevel(saved_log[1])
        library_log.propagate = saved_log[2]
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(
        list(command), returncode, stdout.getvalue(), stderr.getvalue()
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


def copy_build(build: Mapping[str, Any], work_dir: Path) -> Path:
    """Copy a finished build (its DuckDB file and ``target_warehouse/``) into ``work_dir``.

    For a module that needs a whole default build it may change (publish it, rebuild part of it,
    point ``mf`` at it): the copy of conftest's ``default_build`` is that build, without building
    again. ``run_dbt`` on ``work_dir`` then continues from it. Returns the database's path.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    target = f"target_{Path(DATABASE).stem}"
    shutil.copytree(Path(build["work_dir"]) / target, work_dir / target)
    return copy_database(build, work_dir)


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
