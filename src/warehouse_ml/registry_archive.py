"""Registry exports: every registry table to Parquet with a manifest, and back.

An export is a folder with one Parquet file per registry table (``ml_<model>_model.parquet``,
columns and types of :data:`warehouse_ml.registry.REGISTRY_SCHEMA`, readable by DuckDB, Spark
and pyarrow alike) and ``manifest.json`` (format version, source schema, and per table its model
name, file, row count and the file's sha256). The registry tables are found from
``ml_model_specs`` (one ``ml_<model_name>_model`` per spec row), not from a list kept here.

Reading an export back (:func:`read_export`) checks each file's sha256 and row count against the
manifest and every row with :func:`warehouse_ml.registry.verify_row` (skops format, artifact
sha256, ``integrity_sha256``, the signature when ``WAREHOUSE_ML_REGISTRY_KEY`` is set) and its
artifact's types against :data:`warehouse_ml.training.ARTIFACT_TYPES`, and refuses the whole
export, naming every refused row, before anything is written. Two ways in:

* :func:`import_registry` (``warehouse-ml registry import``) appends the versions a DuckDB
  warehouse does not hold yet, creating the schema and tables when absent;
* :func:`restore` is what a registry model reads on its first (non-incremental) build when the
  var ``ml_registry_restore_path`` names an export, on DuckDB and on Spark.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from warehouse_ml import registry
from warehouse_ml.errors import RegistryIntegrityError, WarehouseMLError

MANIFEST = "manifest.json"
"""Name of the manifest file inside an export folder."""

EXPORT_FORMAT = 1
"""Version of the export layout, written to the manifest and checked on reading."""

SPECS_TABLE = "ml_model_specs"


def registry_table_name(model_name: str) -> str:
    """The registry table of ``model_name``: ``ml_<model_name>_model``."""
    return f"ml_{model_name}_model"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _run(connection: Any, sql: str) -> list[tuple]:
    """Execute ``sql`` and fetch its result (DuckDB wants a result drained before the next)."""
    return connection.execute(sql).fetchall()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_registries(connection: Any) -> tuple[str, list[tuple[str, str]]]:
    """The schema of ``ml_model_specs`` and its registries, ``[(model_name, table)]``.

    Only registries that exist are listed (a model whose registry was never built has none).

    Raises
    ------
    WarehouseMLError
        If the database has no ``ml_model_specs`` (build the ml layer first).
    """
    schemas = connection.execute(
        "select table_schema from information_schema.tables "
        "where table_catalog = current_database() and table_name = ?",
        [SPECS_TABLE],
    ).fetchall()
    if len(schemas) != 1:
        raise WarehouseMLError(
            f"the database has {len(schemas)} {SPECS_TABLE} tables; build the ml layer first "
            "(dbt build --select ml_model_specs+)"
        )
    schema = schemas[0][0]
    names = connection.execute(
        f"select distinct model_name from {_quote(schema)}.{SPECS_TABLE} order by model_name"
    ).fetchall()
    tables = {
        row[0]
        for row in connection.execute(
            "select table_name from information_schema.tables "
            "where table_catalog = current_database() and table_schema = ?",
            [schema],
        ).fetchall()
    }
    found = [(n, registry_table_name(n)) for (n,) in names if registry_table_name(n) in tables]
    return schema, found


def as_registry_schema(table: pa.Table) -> pa.Table:
    """``table`` with exactly :data:`REGISTRY_SCHEMA`'s columns and types (absent ones null)."""
    columns = []
    for field in registry.REGISTRY_SCHEMA:
        if field.name in table.column_names:
            columns.append(table.column(field.name).cast(field.type))
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=registry.REGISTRY_SCHEMA)


def export_registry(db_path: Path, out_dir: Path) -> dict[str, Any]:
    """Write every registry table of the DuckDB warehouse ``db_path`` to ``out_dir``.

    Returns the manifest (also written to ``out_dir/manifest.json``). Rows are written as they
    are; they are verified when the export is read back.
    """
    import duckdb

    out_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(db_path), read_only=True) as connection:
        schema, registries = find_registries(connection)
        tables: dict[str, dict[str, Any]] = {}
        for model_name, table in registries:
            rows = connection.sql(
                f"select * from {_quote(schema)}.{_quote(table)} order by model_version"
            ).to_arrow_table()
            path = out_dir / f"{table}.parquet"
            pq.write_table(as_registry_schema(rows), path)
            tables[table] = {
                "model_name": model_name,
                "file": path.name,
                "rows": rows.num_rows,
                "sha256": _sha256_of(path),
            }
    manifest = {"format": EXPORT_FORMAT, "schema": schema, "tables": tables}
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of the export in ``directory``."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise WarehouseMLError(
            f"{path} does not exist; pass a folder written by warehouse-ml registry export"
        )
    manifest = json.loads(path.read_text())
    if manifest.get("format") != EXPORT_FORMAT:
        raise WarehouseMLError(
            f"{path}: export format {manifest.get('format')!r} is not {EXPORT_FORMAT}; "
            "export again with this release"
        )
    return manifest


def row_problems(table: pa.Table) -> list[str]:
    """Why each refused row of a registry table is refused (empty: every row verifies)."""
    problems = []
    for row in table.to_pylist():
        try:
            registry.verify_row(row)
            registry.check_artifact_types(bytes(row["artifact"]), registry.where_of(row))
        except WarehouseMLError as refused:
            problems.append(str(refused))
    return problems


def read_export(directory: Path, model_name: str | None = None) -> dict[str, pa.Table]:
    """The registry tables of an export (of ``model_name`` only, when given), verified.

    Raises
    ------
    RegistryIntegrityError
        A file whose sha256 or row count differs from the manifest, a row of another model than
        its table's, or rows that fail :func:`warehouse_ml.registry.verify_row`: all named, and
        nothing returned.
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    tables: dict[str, pa.Table] = {}
    problems: list[str] = []
    for table, entry in sorted(manifest["tables"].items()):
        if model_name is not None and entry["model_name"] != model_name:
            continue
        path = directory / entry["file"]
        actual = _sha256_of(path) if path.is_file() else "missing"
        if actual != entry["sha256"]:
            problems.append(
                f"{path}: sha256 {actual} is not the manifest's {entry['sha256']} "
                "(the file was changed after the export)"
            )
            continue
        rows = as_registry_schema(pq.read_table(path))
        if rows.num_rows != entry["rows"]:
            problems.append(f"{path}: {rows.num_rows} rows, the manifest says {entry['rows']}")
        others = sorted(set(rows.column("model_name").to_pylist()) - {entry["model_name"]})
        if others:
            problems.append(f"{path}: rows of model(s) {others} in the registry of '{table}'")
        problems.extend(row_problems(rows))
        tables[table] = rows
    if problems:
        raise RegistryIntegrityError(
            f"refusing the registry export {directory}: " + "; ".join(problems)
        )
    return tables


def import_registry(db_path: Path, directory: Path, schema: str | None = None) -> dict[str, int]:
    """Append the export's versions that the DuckDB warehouse ``db_path`` does not hold yet.

    Every row of the export is verified first (:func:`read_export`); then, in one transaction,
    the schema (default: the export's) and the registry tables are created when absent, columns
    the tables lack are added, and the new versions appended. Returns the rows appended per table.
    """
    import duckdb

    tables = read_export(directory)
    schema = schema or read_manifest(directory)["schema"]
    appended: dict[str, int] = {}
    with duckdb.connect(str(db_path)) as connection:
        connection.begin()
        _run(connection, f"create schema if not exists {_quote(schema)}")
        for table, rows in tables.items():
            target = f"{_quote(schema)}.{_quote(table)}"
            connection.register("registry_import_rows", rows)
            _run(
                connection,
                f"create table if not exists {target} as select * from registry_import_rows "
                "where false",
            )
            existing = {
                name
                for (name,) in connection.execute(
                    "select column_name from information_schema.columns "
                    "where table_catalog = current_database() and table_schema = ? "
                    "and table_name = ?",
                    [schema, table],
                ).fetchall()
            }
            described = connection.execute("describe select * from registry_import_rows")
            types = {row[0]: row[1] for row in described.fetchall()}
            for name in [n for n in rows.column_names if n not in existing]:
                _run(connection, f"alter table {target} add column {_quote(name)} {types[name]}")
            columns = ", ".join(_quote(name) for name in rows.column_names)
            before = connection.execute(f"select count(*) from {target}").fetchall()[0][0]
            _run(
                connection,
                f"insert into {target} ({columns}) select {columns} from registry_import_rows as i "
                f"where not exists (select 1 from {target} as t where t.model_name = i.model_name "
                "and t.model_version = i.model_version)",
            )
            appended[table] = connection.execute(f"select count(*) from {target}").fetchall()[0][0]
            appended[table] -= before
            connection.unregister("registry_import_rows")
        connection.commit()
    return appended


def restore(directory: str | Path | None, model_name: str) -> pa.Table:
    """The verified rows of ``model_name`` in the export ``directory`` (empty without one).

    A registry model reads this on its first (non-incremental) build, with ``directory`` from
    the var ``ml_registry_restore_path`` (empty string or null: nothing to restore).
    """
    if not directory:
        return registry.registry_table([])
    tables = read_export(Path(directory), model_name)
    if not tables:
        return registry.registry_table([])
    return pa.concat_tables(tables.values())


def with_restored(restored: pa.Table, new_rows: pa.Table) -> pa.Table:
    """The first build's rows: the restored versions, then the newly trained one (if any)."""
    return pa.concat_tables([restored, as_registry_schema(new_rows)])
