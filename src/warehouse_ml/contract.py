"""The raw data contract check: do the raw Parquet files hold the columns the pipeline reads?

The contract is the sources yml (every table's columns and their declared ``data_type``) plus the
user columns of the ``extra_customer_columns`` / ``extra_impression_columns`` vars
(``{column: numeric | categorical}``). The check reads Parquet file schemas only (the footer, no
data) and compares type *families*, so any integer width fits a declared BIGINT and a
time-zone-aware timestamp fits a declared TIMESTAMP (staging converts it to UTC). A raw path
with a URI scheme (``s3a://``, ``gs://``, ``hdfs://``, ``file://``) is read through
``pyarrow.fs``; a plain path is a local folder.

dbt calls :func:`check_raw_contract_json` through a SQL function of the same engine session
(:data:`CHECK_FUNCTION`), registered by the dbt-duckdb plugin (``warehouse_ml.duckdb_plugin``) and
by the Spark launcher (``warehouse_ml.spark.dbt_session``); the ``validate_raw_sources`` hook
raises the returned message as one compiler error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

CHECK_FUNCTION = "warehouse_ml_check_raw_contract"
"""SQL name of :func:`check_raw_contract_json` (raw path, contract JSON) -> message or ''."""

COLUMN_TYPES_FUNCTION = "warehouse_ml_raw_column_types"
"""SQL name of :func:`extra_column_types_json` (raw path, contract JSON) -> JSON of Spark types."""

CONTRACT_DOC = "docs/raw_data_contract.md"

INTEGER = "integer"
FLOATING_POINT = "floating point"
TIMESTAMP = "timestamp"
TEXT = "text"

ROLE_FAMILIES: dict[str, tuple[str, ...]] = {
    "numeric": (INTEGER, FLOATING_POINT),
    "categorical": (TEXT, INTEGER),
}
"""The type families an extra column of each role accepts."""

_DECLARED_FAMILIES: dict[str, str] = {
    **dict.fromkeys(
        [
            "tinyint", "smallint", "integer", "int", "bigint", "hugeint", "utinyint", "usmallint",
            "uinteger", "ubigint", "uhugeint", "int1", "int2", "int4", "int8", "long", "short",
            "byte",
        ],
        INTEGER,
    ),
    **dict.fromkeys(["double", "float", "real", "float4", "float8"], FLOATING_POINT),
    **dict.fromkeys(
        [
            "timestamp", "timestamp_ns", "timestamp_ms", "timestamp_s", "timestamp_us",
            "datetime", "timestamp_ntz", "timestamptz", "timestamp with time zone",
            "timestamp_ltz",
        ],
        TIMESTAMP,
    ),
    **dict.fromkeys(["varchar", "string", "text", "char", "bpchar"], TEXT),
}  # fmt: skip

_SPARK_TYPES = {INTEGER: "bigint", FLOATING_POINT: "double", TEXT: "string"}
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
"""An extra column's name: the rule of macros/staging/extra_columns.sql, which staging applies."""
_URI = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
_SCHEME_ALIASES = {"s3a": "s3", "s3n": "s3"}
"""Hadoop's names for S3 (what Spark users pass) -> the scheme pyarrow opens."""


@dataclass(frozen=True)
class DeclaredColumn:
    """A column of a source table as the sources yml declares it.

    Parameters
    ----------
    name : str
        Column name (compared case-insensitively with the files).
    data_type : str or None
        The declared type, e.g. ``bigint``; None when the yml declares none (a problem).
    """

    name: str
    data_type: str | None


@dataclass(frozen=True)
class TableContract:
    """One raw table: its Parquet folder, declared columns and the var of its extra columns.

    Parameters
    ----------
    source : str
        dbt source name, e.g. ``shop``.
    name : str
        Table name in the source, e.g. ``customers``.
    identifier : str
        Folder name under the raw path (``<raw_path>/<identifier>/*.parquet``).
    columns : tuple of DeclaredColumn
        The declared columns, in yml order.
    extra_columns_var : str or None
        Name of the var listing this table's extra columns, if it has one.
    extra_columns : object
        That var's value as given (validated by the check): ``{column: numeric | categorical}``.
    """

    source: str
    name: str
    identifier: str
    columns: tuple[DeclaredColumn, ...]
    extra_columns_var: str | None = None
    extra_columns: Any = None

    @property
    def qualified_name(self) -> str:
        """``<source>.<name>``, as dbt's ``source()`` names the table."""
        return f"{self.source}.{self.name}"


@dataclass(frozen=True)
class Problem:
    """One way the raw data breaks the contract.

    Parameters
    ----------
    location : str
        The file, folder, var or source at fault.
    message : str
        The whole sentence: what is wrong (column, found type and family, expected family) and
        the fix.
    column : str or None
        The column concerned, if any.
    found : str or None
        The type found in the file (Arrow's name), if any.
    expected : str or None
        The expected type and family, e.g. ``DOUBLE (floating point)``, if any.
    """

    location: str
    message: str
    column: str | None = None
    found: str | None = None
    expected: str | None = None

    def __str__(self) -> str:
        return self.message


def declared_family(data_type: str) -> str:
    """The type family of a declared (DuckDB or Spark) type name.

    Parameters
    ----------
    data_type : str
        A type name such as ``BIGINT``, ``varchar(20)`` or ``timestamp with time zone``.

    Returns
    -------
    str
        ``integer``, ``floating point``, ``timestamp`` or ``text``; any other type is its own
        family (its name lowercased), which no file type matches.
    """
    name = data_type.strip().lower().split("(")[0].strip()
    return _DECLARED_FAMILIES.get(name, data_type.strip().lower())


def arrow_family(data_type: pa.DataType) -> str:
    """The type family of an Arrow type read from a Parquet schema.

    Parameters
    ----------
    data_type : pyarrow.DataType
        A field type; dictionary-encoded columns (pandas categoricals) count as their values.

    Returns
    -------
    str
        ``integer``, ``floating point``, ``timestamp`` (with or without a time zone) or
        ``text``; any other type is its own family (Arrow's name, e.g. ``date32[day]``).
    """
    if pa.types.is_dictionary(data_type):
        data_type = data_type.value_type
    if pa.types.is_integer(data_type):
        return INTEGER
    if pa.types.is_floating(data_type):
        return FLOATING_POINT
    if pa.types.is_timestamp(data_type):
        return TIMESTAMP
    if (
        pa.types.is_string(data_type)
        or pa.types.is_large_string(data_type)
        or pa.types.is_string_view(data_type)
    ):
        return TEXT
    return str(data_type)


def parse_contract(contract_json: str) -> list[TableContract]:
    """The tables of a contract given as JSON (as the ``validate_raw_sources`` hook builds it).

    Parameters
    ----------
    contract_json : str
        ``{"tables": [{"source", "name", "identifier", "columns": [{"name", "data_type"}],
        "extra_columns_var", "extra_columns"}]}``.

    Returns
    -------
    list of TableContract
        In the given order.
    """
    document = json.loads(contract_json)
    return [
        TableContract(
            source=table["source"],
            name=table["name"],
            identifier=table["identifier"],
            columns=tuple(
                DeclaredColumn(column["name"], column.get("data_type") or None)
                for column in table["columns"]
            ),
            extra_columns_var=table.get("extra_columns_var"),
            extra_columns=table.get("extra_columns"),
        )
        for table in document["tables"]
    ]


def _extra_roles(table: TableContract) -> tuple[dict[str, str], list[Problem]]:
    """The valid ``{column: role}`` entries of a table's extra-columns var, and its problems."""
    var = table.extra_columns_var
    value = table.extra_columns
    if var is None or value is None:
        return {}, []
    if not isinstance(value, Mapping):
        return {}, [
            Problem(
                location=f"var {var}",
                message=(
                    f"var {var} must be a mapping {{column: numeric | categorical}}, got "
                    f"{json.dumps(value)}. Fix: e.g. --vars '{{{var}: {{my_column: numeric}}}}'."
                ),
            )
        ]
    declared = {column.name.lower() for column in table.columns}
    roles: dict[str, str] = {}
    problems: list[Problem] = []
    for column, role in value.items():
        if not _IDENTIFIER.match(str(column).lower()):
            problems.append(
                Problem(
                    location=f"var {var}",
                    column=str(column),
                    message=(
                        f"var {var}: column name '{column}' is not a plain identifier. Fix: rename "
                        "it in the files to letters, digits and underscores."
                    ),
                )
            )
        elif column.lower() in declared:
            problems.append(
                Problem(
                    location=f"var {var}",
                    column=column,
                    message=(
                        f"var {var} lists '{column}', a declared column of "
                        f"{table.qualified_name}. Fix: remove it from the var (staging already "
                        "reads it)."
                    ),
                )
            )
        elif not _IDENTIFIER.match(column):
            problems.append(
                Problem(
                    location=f"var {var}",
                    column=str(column),
                    message=(
                        f"var {var}: column name '{column}' is not lowercase. Fix: list it as "
                        f"'{str(column).lower()}' (file columns match case-insensitively)."
                    ),
                )
            )
        elif role not in ROLE_FAMILIES:
            problems.append(
                Problem(
                    location=f"var {var}",
                    column=column,
                    message=(
                        f"var {var}: column '{column}' has role {json.dumps(role)}, expected "
                        f"numeric or categorical. Fix: set {var}: {{{column}: numeric}} or "
                        f"{{{column}: categorical}}."
                    ),
                )
            )
        else:
            roles[column] = role
    return roles, problems


class UnreadableRawPathError(Exception):
    """The raw path names a file system the check cannot open or list."""


def _open_root(raw_path: str, base_dir: str | Path | None) -> tuple[pafs.FileSystem, str]:
    """The file system and root folder of ``raw_path``.

    A path with a URI scheme (``s3a://bucket/raw``, ``gs://...``, ``hdfs://...``,
    ``file:///...``) is opened with :meth:`pyarrow.fs.FileSystem.from_uri` (``s3a`` and
    ``s3n`` read as ``s3``); any other path is local, relative to ``base_dir`` when given.

    Raises
    ------
    UnreadableRawPathError
        If pyarrow cannot open the scheme.
    """
    shown_root = raw_path.rstrip("/") or "/"
    match = _URI.match(shown_root)
    if match is None:
        root = Path(shown_root)
        if base_dir is not None and not root.is_absolute():
            root = Path(base_dir) / root
        return pafs.LocalFileSystem(), str(root)
    scheme = match["scheme"].lower()
    uri = _SCHEME_ALIASES.get(scheme, scheme) + shown_root[len(match["scheme"]) :]
    try:
        filesystem, root = pafs.FileSystem.from_uri(uri)
    except (pa.ArrowException, OSError, ValueError) as error:
        raise UnreadableRawPathError(str(error)) from error
    return filesystem, root.rstrip("/") or "/"


def _parquet_files(filesystem: pafs.FileSystem, folder: str) -> list[str]:
    """The Parquet files directly in ``folder``, sorted by name (none if it does not exist).

    Raises
    ------
    UnreadableRawPathError
        If the file system refuses the listing (no access, no such bucket, ...).
    """
    selector = pafs.FileSelector(folder, allow_not_found=True, recursive=False)
    try:
        infos = filesystem.get_file_info(selector)
    except NotADirectoryError:
        return []
    except (pa.ArrowException, OSError) as error:
        raise UnreadableRawPathError(str(error)) from error
    return sorted(
        info.path
        for info in infos
        if info.type == pafs.FileType.File and info.base_name.endswith(".parquet")
    )


def _file_schema(filesystem: pafs.FileSystem, path: str) -> dict[str, pa.DataType]:
    """The file's columns (lowercased names) and Arrow types, read from the Parquet footer."""
    schema = pq.read_schema(path, filesystem=filesystem)
    return {field.name.lower(): field.type for field in schema}


def _unreadable(shown_root: str, error: UnreadableRawPathError) -> Problem:
    return Problem(
        location=shown_root,
        message=(
            f"Raw data could not be read: the contract check could not open raw_data_path "
            f"'{shown_root}' ({error}).\nFix: use a local folder or a URI pyarrow can open "
            "(file://, s3:// or s3a://, gs://, hdfs:// with its libraries and credentials), or "
            f"check the path and your access to it. See {CONTRACT_DOC}."
        ),
    )


def _check_file(
    shown: str, types: Mapping[str, pa.DataType], table: TableContract, roles: Mapping[str, str]
) -> list[Problem]:
    """The problems of one file's schema against its table's contract."""
    problems: list[Problem] = []
    for column in table.columns:
        if column.data_type is None:
            continue
        expected = column.data_type.upper()
        family = declared_family(column.data_type)
        found = types.get(column.name.lower())
        if found is None:
            problems.append(
                Problem(
                    location=shown,
                    column=column.name,
                    expected=f"{expected} ({family})",
                    message=(
                        f"{shown}: column '{column.name}' is missing, expected {expected} "
                        f"({family}). Fix: add the column '{column.name}' to the file."
                    ),
                )
            )
        elif arrow_family(found) != family:
            problems.append(
                Problem(
                    location=shown,
                    column=column.name,
                    found=str(found),
                    expected=f"{expected} ({family})",
                    message=(
                        f"{shown}: column '{column.name}' is {found} ({arrow_family(found)}), "
                        f"expected {expected} ({family}). Fix: write '{column.name}' as "
                        f"{expected} (any type of the {family} family is accepted)."
                    ),
                )
            )
    var = table.extra_columns_var
    for column, role in roles.items():
        accepted = " or ".join(ROLE_FAMILIES[role])
        found = types.get(column.lower())
        if found is None:
            problems.append(
                Problem(
                    location=shown,
                    column=column,
                    expected=f"{role} ({accepted})",
                    message=(
                        f"column '{column}' listed in var {var} is missing from {shown}. Fix: add "
                        f"'{column}' to the file or remove it from the var."
                    ),
                )
            )
        elif arrow_family(found) not in ROLE_FAMILIES[role]:
            other = "categorical" if role == "numeric" else "numeric"
            problems.append(
                Problem(
                    location=shown,
                    column=column,
                    found=str(found),
                    expected=f"{role} ({accepted})",
                    message=(
                        f"{shown}: column '{column}' (var {var}: {role}) is {found} "
                        f"({arrow_family(found)}), expected {accepted}. Fix: write '{column}' as "
                        f"{accepted}, or list it as {other} in var {var} if that is what it is."
                    ),
                )
            )
    return problems


def check_raw_contract(
    raw_path: str, tables: Sequence[TableContract], *, base_dir: str | Path | None = None
) -> list[Problem]:
    """Every way the Parquet files under ``raw_path`` break the contract of ``tables``.

    Reads the schema of every file of ``<raw_path>/<identifier>/*.parquet`` (footers only) and
    checks that it has each declared column with a type of the declared family, and each extra
    column of the table's var with a type its role accepts (numeric: integer or floating point;
    categorical: text or integer).

    Parameters
    ----------
    raw_path : str
        The raw folder as the user gave it (the ``raw_data_path`` var); messages show it as is.
        A local path, or a URI of any file system pyarrow opens (``file://``, ``s3://`` and
        Hadoop's ``s3a://``, ``gs://``, ``hdfs://``).
    tables : sequence of TableContract
        The tables to check, in the order problems are reported.
    base_dir : str or Path, optional
        Folder a relative ``raw_path`` is read from (default: the working directory).

    Returns
    -------
    list of Problem
        Empty when the data fits. When no table has a Parquet file, one problem: the raw data
        was not found (the path is wrong or the data not generated). When the path's file
        system cannot be opened or listed, one problem saying so.
    """
    shown_root = raw_path.rstrip("/") or "/"
    try:
        filesystem, root = _open_root(raw_path, base_dir)
        files = {
            table.identifier: _parquet_files(filesystem, f"{root.rstrip('/')}/{table.identifier}")
            for table in tables
        }
    except UnreadableRawPathError as error:
        return [_unreadable(shown_root, error)]
    if not any(files.values()):
        names = ", ".join(table.identifier for table in tables)
        return [
            Problem(
                location=shown_root,
                message=(
                    f"Raw data not found: raw_data_path '{shown_root}' does not exist or holds no "
                    f"Parquet files (expected <raw_data_path>/<table>/*.parquet for the tables "
                    f"{names}).\nFix: generate data there (warehouse-ml generate --out "
                    f"{shown_root}) or point the raw_data_path var at your raw folder, e.g. "
                    f"--vars '{{raw_data_path: /path/to/raw}}'. See {CONTRACT_DOC}."
                ),
            )
        ]

    problems: list[Problem] = []
    for table in tables:
        for column in table.columns:
            if column.data_type is None:
                problems.append(
                    Problem(
                        location=f"source {table.qualified_name}",
                        column=column.name,
                        message=(
                            f"source {table.qualified_name}, column '{column.name}': no data_type "
                            "declared. Fix: declare it in the source's yml (it is the contract)."
                        ),
                    )
                )
        roles, role_problems = _extra_roles(table)
        problems.extend(role_problems)
        folder = f"{shown_root.rstrip('/')}/{table.identifier}/"
        if not files[table.identifier]:
            problems.append(
                Problem(
                    location=folder,
                    message=(
                        f"{folder}: no Parquet files (expected {folder}*.parquet for source table "
                        f"{table.qualified_name}). Fix: write the {table.identifier} table there "
                        "as Parquet."
                    ),
                )
            )
        for path in files[table.identifier]:
            shown = folder + path.rsplit("/", 1)[-1]
            try:
                types = _file_schema(filesystem, path)
            except (pa.ArrowException, OSError) as error:
                problems.append(
                    Problem(
                        location=shown,
                        message=(
                            f"{shown}: not a readable Parquet file ({error}). Fix: rewrite it as "
                            "Parquet or remove it."
                        ),
                    )
                )
                continue
            problems.extend(_check_file(shown, types, table, roles))
    return problems


def contract_message(raw_path: str, problems: Sequence[Problem]) -> str:
    """The one error message for ``problems`` ('' when there are none).

    Parameters
    ----------
    raw_path : str
        The raw folder as the user gave it.
    problems : sequence of Problem
        From :func:`check_raw_contract`.

    Returns
    -------
    str
        ``Raw data does not match the contract; nothing was built. N problem(s) ...`` with one
        line per problem, or the raw-data-not-found message alone.
    """
    if not problems:
        return ""
    if len(problems) == 1 and problems[0].message.startswith(
        ("Raw data not found", "Raw data could not be read")
    ):
        return problems[0].message
    shown_root = raw_path.rstrip("/") or "/"
    lines = "\n  - ".join(problem.message for problem in problems)
    return (
        f"Raw data does not match the contract; nothing was built. {len(problems)} problem(s) "
        f"under raw_data_path '{shown_root}':\n  - {lines}\nSee {CONTRACT_DOC} for the tables, "
        "columns and types the pipeline reads."
    )


def check_raw_contract_json(
    raw_path: str, contract_json: str, base_dir: str | Path | None = None
) -> str:
    """:func:`check_raw_contract` for SQL: the contract as JSON in, the error message out.

    Parameters
    ----------
    raw_path : str
        The ``raw_data_path`` var.
    contract_json : str
        The contract, as :func:`parse_contract` reads it.
    base_dir : str or Path, optional
        Folder a relative ``raw_path`` is read from (the dbt process's working directory when
        the function runs in a Spark worker).

    Returns
    -------
    str
        The message of :func:`contract_message`; '' when the data fits.
    """
    tables = parse_contract(contract_json)
    return contract_message(raw_path, check_raw_contract(raw_path, tables, base_dir=base_dir))


def extra_column_types(
    raw_path: str, tables: Sequence[TableContract], *, base_dir: str | Path | None = None
) -> dict[str, dict[str, str]]:
    """The Spark SQL type of every extra column, from the family found in its table's first file.

    An external Spark table over Parquet must declare each column with a type the files can be
    read as, so a categorical column stored as integers is ``bigint`` (staging casts it to
    string) and a numeric one ``bigint`` or ``double``.

    Parameters
    ----------
    raw_path : str
        The ``raw_data_path`` var.
    tables : sequence of TableContract
        The tables; only those with valid extra columns appear in the result.
    base_dir : str or Path, optional
        Folder a relative ``raw_path`` is read from.

    Returns
    -------
    dict
        ``{"<source>.<table>": {column: "bigint" | "double" | "string"}}``; a column the first
        file lacks, or whose family fits no Spark type here, is left out (the contract check
        reports it).
    """
    try:
        filesystem, root = _open_root(raw_path, base_dir)
    except UnreadableRawPathError:
        return {}  # the contract check reports it
    result: dict[str, dict[str, str]] = {}
    for table in tables:
        roles, _ = _extra_roles(table)
        if not roles:
            continue
        try:
            files = _parquet_files(filesystem, f"{root.rstrip('/')}/{table.identifier}")
        except UnreadableRawPathError:
            return {}
        if not files:
            continue
        types = _file_schema(filesystem, files[0])
        spark_types = {
            column: _SPARK_TYPES[arrow_family(types[column.lower()])]
            for column in roles
            if column.lower() in types and arrow_family(types[column.lower()]) in _SPARK_TYPES
        }
        if spark_types:
            result[table.qualified_name] = spark_types
    return result


def extra_column_types_json(
    raw_path: str, contract_json: str, base_dir: str | Path | None = None
) -> str:
    """:func:`extra_column_types` for SQL: the contract as JSON in, the types as JSON out."""
    tables = parse_contract(contract_json)
    return json.dumps(extra_column_types(raw_path, tables, base_dir=base_dir), sort_keys=True)
