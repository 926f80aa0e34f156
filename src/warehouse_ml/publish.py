"""Publish a tested build for BI: Parquet in a versioned folder, a small DuckDB of views swapped in.

``dbt build`` writes to the build database (:data:`BUILD_DB`, ``data/build/warehouse.duckdb``
unless ``WAREHOUSE_ML_DUCKDB_PATH`` says otherwise). It keeps the registries, the decision log
and the score histories from one build to the next, and it is the only file dbt ever locks. BI
tools read the published database (:data:`PUBLISHED_DB`, ``data/warehouse.duckdb``), which
changes only through :func:`publish`, and only after a build whose every node passed:

1. :func:`check_build` reads dbt's ``run_results.json`` and refuses unless it is a full
   ``dbt build`` (no ``--select``/``--exclude``) in which every model, seed and test passed
   (``warn`` passes: warn-severity tests are the project's monitoring, e.g. drift);
2. every table and view of :data:`PUBLISHED_SCHEMAS` in the build database (but the internal
   inputs of :data:`NOT_PUBLISHED`) is written as
   Parquet to ``data/published/<publication id>/<schema>/<relation>.parquet`` (binary columns,
   i.e. the registries' artifact bytes, are left out: they never leave the build database);
3. a new DuckDB file of views over those files (cast back to the build's column types; storage
   format of DuckDB 1.0, so older clients open it), with
   ``main.publication`` and ``main.published_relations`` describing it, is written under a
   temporary name next to the published database, synced, and moved onto it with
   :func:`os.replace`: one atomic rename. A reader holding the old file open keeps its snapshot
   (the old inode and the old publication's Parquet files stay); a new connection sees the new
   publication;
4. publications older than the newest ``keep`` are deleted (the previous one stays by default,
   so a reader that opened it before the swap can finish).

A refused build changes nothing and :class:`BuildNotPublishableError` says what failed and
which publication is still being served.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warehouse_ml.errors import WarehouseMLError

BUILD_DB = Path("data/build/warehouse.duckdb")
"""Where ``dbt build`` writes by default (profiles/profiles.yml)."""

PUBLISHED_DB = Path("data/warehouse.duckdb")
"""The database BI tools open (read-only)."""

PUBLISHED_SCHEMAS = ("marts", "ml")
"""Schemas whose tables and views are published: the marts and the ML outputs."""

NOT_PUBLISHED = {
    ("ml", "ml_feature_drift_rows"): "the long input of ml_feature_drift (18M rows at scale 1); "
    "BI reads ml_feature_drift",
}
"""Relations of those schemas that stay in the build database, with the reason."""

RUN_RESULTS = Path("target/run_results.json")
"""dbt's record of the last invocation (``--target-path`` moves it)."""

PASSING_STATUSES = frozenset({"success", "pass", "warn", "no-op"})
"""Node statuses a publishable build may have (``no-op``: exposures); anything else (error, fail,
skipped, ...) refuses."""

MARKER = "publication.json"
"""Written last into a publication folder: a folder without it is an interrupted publish."""

SCRATCH_MARKER = "__dbt_tmp"


class BuildNotPublishableError(WarehouseMLError):
    """The build did not run or did not pass: nothing was published."""


class PublicationError(WarehouseMLError):
    """The published database or folder cannot be written (or is not a publication)."""


@dataclass(frozen=True)
class BuildCheck:
    """What :func:`check_build` found in ``run_results.json``."""

    invocation_id: str
    finished_at: str
    counts: dict[str, int]
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Publication:
    """One publication: its id, folder, published database and what it holds."""

    publication_id: str
    folder: Path
    database: Path
    relations: list[dict[str, Any]]
    seconds: float
    pruned: list[str]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def check_build(run_results: Path) -> BuildCheck:
    """Return the build's summary, or raise :class:`BuildNotPublishableError` naming what failed.

    Parameters
    ----------
    run_results : Path
        ``run_results.json`` written by the ``dbt build`` that wrote the build database.
    """
    if not run_results.is_file():
        raise BuildNotPublishableError(
            f"{run_results} does not exist: the build did not finish (dbt writes it at the end of "
            "every invocation). Run the full dbt build, then publish."
        )
    try:
        results = json.loads(run_results.read_text())
        args = results.get("args", {})
        nodes = results["results"]
        metadata = results["metadata"]
    except (ValueError, KeyError) as exc:
        raise BuildNotPublishableError(
            f"{run_results} is not dbt's run_results.json: {exc}"
        ) from exc
    if args.get("which") != "build":
        raise BuildNotPublishableError(
            f"{run_results} records `dbt {args.get('which')}`, not `dbt build`: only a build runs "
            "every model and its tests. Run the full dbt build, then publish."
        )
    selection = [
        f"--{flag} {args[flag]}" for flag in ("select", "exclude", "selector") if args.get(flag)
    ] + (["--empty"] if args.get("empty") else [])
    if selection:
        raise BuildNotPublishableError(
            f"{run_results} records a partial build ({' '.join(map(str, selection))}): a "
            "publication holds only fully tested builds. Run dbt build without a selection."
        )
    counts: dict[str, int] = {}
    failures = []
    for node in nodes:
        status = str(node.get("status"))
        counts[status] = counts.get(status, 0) + 1
        if status not in PASSING_STATUSES:
            name = node.get("unique_id", "?")
            message = (node.get("message") or "").splitlines()
            failures.append(f"{name}: {status}" + (f" ({message[0][:160]})" if message else ""))
    if not nodes:
        raise BuildNotPublishableError(f"{run_results} records a build of no node.")
    check = BuildCheck(
        invocation_id=str(metadata.get("invocation_id", "")),
        finished_at=str(metadata.get("generated_at", "")),
        counts=counts,
        failures=failures,
    )
    if failures:
        shown = "; ".join(failures[:5]) + (
            f"; and {len(failures) - 5} more" if failures[5:] else ""
        )
        raise BuildNotPublishableError(
            f"the build did not pass ({len(failures)} of {len(nodes)} nodes: {shown}). Fix it and "
            "rebuild; nothing was published."
        )
    return check


def current_publication(database: Path) -> dict[str, Any] | None:
    """The ``main.publication`` row of a published database, or None when there is none."""
    import duckdb

    if not database.is_file():
        return None
    try:
        with duckdb.connect(str(database), read_only=True) as connection:
            found = connection.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = 'main' and table_name = 'publication'"
            ).fetchone()[0]
            if not found:
                return {}
            cursor = connection.execute("select * from main.publication")
            names = [column[0] for column in cursor.description]
            row = cursor.fetchone()
    except duckdb.Error as exc:
        raise PublicationError(f"cannot read {database}: {exc}") from exc
    return dict(zip(names, row, strict=True)) if row else {}


def describe_current(database: Path) -> str:
    """One sentence: which publication ``database`` serves (for messages after a refusal)."""
    try:
        current = current_publication(database)
    except PublicationError as exc:
        return str(exc)
    if current is None:
        return f"{database} does not exist yet (nothing has been published)."
    if not current:
        return f"{database} is not a publication (it has no main.publication table)."
    return (
        f"{database} still serves publication {current['publication_id']} "
        f"(published {current['published_at']:%Y-%m-%d %H:%M:%S} UTC)."
    )


@contextmanager
def _publish_lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise PublicationError(
                f"another warehouse-ml publish holds {root / '.lock'}: wait for it to finish."
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _relations(connection: Any) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(schema, relation, [(column, type)]) of every publishable relation, binary columns out."""
    placeholders = ", ".join(_literal(schema) for schema in PUBLISHED_SCHEMAS)
    rows = connection.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        f"where table_catalog = current_database() and table_schema in ({placeholders}) "
        "order by table_schema, table_name, ordinal_position"
    ).fetchall()
    relations: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in rows:
        if SCRATCH_MARKER in table or (schema, table) in NOT_PUBLISHED:
            continue
        columns = relations.setdefault((schema, table), [])
        if data_type not in ("BLOB", "BYTEA"):
            columns.append((column, data_type))
    return [(schema, table, columns) for (schema, table), columns in relations.items() if columns]


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _complete_publications(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / MARKER).is_file())


def _prune(root: Path, current: str, keep: int) -> list[str]:
    """Delete every publication folder but the newest ``keep`` complete ones (``current`` first)."""
    complete = [name for name in _complete_publications(root) if name <= current]
    kept = set(complete[-keep:]) | {current}
    pruned = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name not in kept:
            shutil.rmtree(folder)
            pruned.append(folder.name)
    return pruned


def publish(
    build_db: Path,
    published_db: Path = PUBLISHED_DB,
    *,
    run_results: Path = RUN_RESULTS,
    published_dir: Path | None = None,
    keep: int = 2,
    on_relation: Callable[[dict[str, Any]], None] | None = None,
) -> Publication:
    """Check the build, export it and swap the published database onto the new publication.

    Parameters
    ----------
    build_db : Path
        The DuckDB file ``dbt build`` wrote (no dbt may be writing it while this runs).
    published_db : Path
        The database BI tools open; replaced atomically, never written in place.
    run_results : Path
        The build's ``run_results.json`` (:func:`check_build`).
    published_dir : Path, optional
        Folder of the publications; default ``published/`` next to ``published_db``.
    keep : int
        Complete publications kept, the new one included (>= 1; default 2, so a reader that
        opened the previous one before the swap can still read it).
    on_relation : callable, optional
        Called with each relation's entry (schema, relation, rows, bytes, seconds) once written.

    Returns
    -------
    Publication
        The new publication (id, folder, relations with row counts, seconds, pruned folders).
    """
    if keep < 1:
        raise PublicationError(f"keep must be at least 1 (got {keep}): the new publication stays.")
    check = check_build(run_results)
    if not build_db.is_file():
        raise BuildNotPublishableError(
            f"{build_db} does not exist: build the warehouse first (dbt build writes where "
            "WAREHOUSE_ML_DUCKDB_PATH says, data/build/warehouse.duckdb by default)."
        )
    if build_db.resolve() == published_db.resolve():
        raise PublicationError(
            f"the build database and the published database are the same file ({build_db}): "
            "build into data/build/warehouse.duckdb (unset WAREHOUSE_ML_DUCKDB_PATH) and publish "
            "to data/warehouse.duckdb."
        )
    current = current_publication(published_db)
    if current == {}:
        raise PublicationError(
            f"{published_db} is not a publication (no main.publication table): it looks like a "
            "warehouse dbt built there before builds moved to data/build/. It may hold the only "
            f"copy of the registries: move it, `mkdir -p {BUILD_DB.parent} && mv {published_db} "
            f"{BUILD_DB}`, rebuild, then publish."
        )
    wal = published_db.with_name(published_db.name + ".wal")
    if wal.exists():
        raise PublicationError(
            f"{wal} exists: something opened {published_db} for writing. Publications are "
            "read-only; close that writer, delete the .wal file, then publish."
        )
    root = (published_dir or published_db.parent / "published").resolve()
    started = time.perf_counter()
    published_at = datetime.now(UTC).replace(tzinfo=None)
    publication_id = published_at.strftime("%Y%m%dT%H%M%S%fZ")
    with _publish_lock(root):
        folder = root / publication_id
        try:
            written = _export(build_db, folder, on_relation)
            _swap(published_db, folder, written, check, build_db, publication_id, published_at)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        pruned = _prune(root, publication_id, keep)
    return Publication(
        publication_id=publication_id,
        folder=folder,
        database=published_db,
        relations=written,
        seconds=time.perf_counter() - started,
        pruned=pruned,
    )


def _export(
    build_db: Path, folder: Path, on_relation: Callable[[dict[str, Any]], None] | None
) -> list[dict[str, Any]]:
    """Write each publishable relation of ``build_db`` to ``folder/<schema>/<relation>.parquet``."""
    import duckdb

    written = []
    try:
        build = duckdb.connect(str(build_db), read_only=True)
    except duckdb.Error as exc:
        raise PublicationError(
            f"cannot open {build_db} read-only: {exc} (is a dbt build still running?)"
        ) from exc
    with build:
        for schema, table, columns in _relations(build):
            target = folder / schema / f"{table}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            selected = ", ".join(_quote(column) for column, _ in columns)
            build.execute(
                f"copy (select {selected} from {_quote(schema)}.{_quote(table)}) "
                f"to {_literal(str(target))} (format parquet, compression zstd)"
            )
            rows = build.execute(
                f"select count(*) from read_parquet({_literal(str(target))})"
            ).fetchone()[0]
            written.append(
                {
                    "schema": schema,
                    "relation": table,
                    "rows": rows,
                    "bytes": target.stat().st_size,
                    "path": str(target),
                    "columns": columns,
                    "seconds": round(time.perf_counter() - started, 2),
                }
            )
            if on_relation is not None:
                on_relation(written[-1])
    return written


def _swap(
    published_db: Path,
    folder: Path,
    written: list[dict[str, Any]],
    check: BuildCheck,
    build_db: Path,
    publication_id: str,
    published_at: datetime,
) -> None:
    """Write the database of views under a temporary name, then rename it onto ``published_db``."""
    import duckdb

    temporary = published_db.with_name(f".{published_db.name}.{publication_id}.tmp")
    published_db.parent.mkdir(parents=True, exist_ok=True)
    try:
        # The oldest storage format that holds it, so BI tools bundling an older DuckDB (1.0 on)
        # can open it too.
        with duckdb.connect(
            str(temporary), config={"storage_compatibility_version": "v1.0.0"}
        ) as views:
            for schema in sorted({entry["schema"] for entry in written}):
                views.execute(f"create schema {_quote(schema)}")
            for entry in written:
                # Parquet has no type for a few DuckDB types (e.g. HUGEINT): cast back to the
                # build's types so the published columns read exactly as dbt built them.
                parquet = f"read_parquet({_literal(entry['path'])})"
                found = {
                    row[0]: row[1]
                    for row in views.execute(f"describe select * from {parquet}").fetchall()
                }
                selected = ", ".join(
                    _quote(column)
                    if found.get(column) == data_type
                    else f"cast({_quote(column)} as {data_type}) as {_quote(column)}"
                    for column, data_type in entry["columns"]
                )
                views.execute(
                    f"create view {_quote(entry['schema'])}.{_quote(entry['relation'])} as "
                    f"select {selected} from {parquet}"
                )
            views.execute(
                "create table main.publication as select ?::varchar as publication_id, "
                "?::timestamp as published_at, ?::varchar as build_invocation_id, "
                "?::varchar as build_finished_at, ?::varchar as build_database, "
                "?::varchar as folder",
                [
                    publication_id,
                    published_at,
                    check.invocation_id,
                    check.finished_at,
                    str(build_db.resolve()),
                    str(folder),
                ],
            )
            views.execute(
                "create table main.published_relations (schema_name varchar, "
                "relation_name varchar, row_count bigint, parquet_bytes bigint, path varchar)"
            )
            views.executemany(
                "insert into main.published_relations values (?, ?, ?, ?, ?)",
                [[e["schema"], e["relation"], e["rows"], e["bytes"], e["path"]] for e in written],
            )
        _fsync(temporary)
        marker = {
            "publication_id": publication_id,
            "published_at": published_at.isoformat(),
            "build_invocation_id": check.invocation_id,
            "build_counts": check.counts,
            "relations": [
                {k: e[k] for k in ("schema", "relation", "rows", "bytes", "seconds")}
                for e in written
            ],
        }
        (folder / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        os.replace(temporary, published_db)
    finally:
        temporary.unlink(missing_ok=True)
    with suppress(OSError):  # make the rename durable; the publication is in place either way
        _fsync(published_db.parent)
