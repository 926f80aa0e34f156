"""Table digests of a built DuckDB warehouse: what a rebuild must reproduce bit for bit.

For every table (and view) of the given schemas, :func:`table_digests` returns the row count, a
digest of the columns (names and types, in order) and an order-independent digest of the rows:
the sum modulo 2**64 of one 64-bit hash per row, DuckDB's ``hash()`` over every column. The sum
does not depend on the physical order of the rows (and, unlike a XOR, still sees a duplicated
row); a DOUBLE is hashed by its bits, so a value off in its last bit (``377.57`` against
``377.57000000000005``) changes the digest. The run stamps (:data:`warehouse_ml.parity.
RUN_STAMP_COLUMNS`: when a run wrote a row, not what it wrote) are left out of both digests.

Two builds from the same raw data and vars must give the same digests
(``tests/python/test_rebuild_determinism.py``); ``warehouse-ml digest --db PATH`` prints them
and writes them as JSON, so two warehouses can be compared with :func:`differences`.
The hashes are those of the DuckDB version that computes them: compare digests made by the same
DuckDB release.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from warehouse_ml.parity import RUN_STAMP_COLUMNS

DEFAULT_SCHEMAS = ("staging", "intermediate", "marts", "training", "ml")
"""The layers a rebuild must reproduce (the raw views and the seeds are inputs, not outputs)."""

SCRATCH_MARKER = "__dbt_tmp"
"""Relations dbt leaves behind while it builds (not part of the warehouse)."""

_HASH_MODULUS = 2**64


@dataclass(frozen=True)
class TableDigest:
    """The digest of one relation.

    Attributes
    ----------
    schema, table : str
    row_count : int
    columns_sha256 : str
        sha256 of the ``name type`` lines of the digested columns, in table order.
    rows_digest : str
        16 hex digits: the sum modulo 2**64 of the rows' hashes.
    excluded_columns : tuple of str
        Run-stamp columns the table has and the digests leave out.
    """

    schema: str
    table: str
    row_count: int
    columns_sha256: str
    rows_digest: str
    excluded_columns: tuple[str, ...] = ()

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.table}"

    def same_content(self, other: TableDigest) -> bool:
        """Same rows, columns and count (the excluded run stamps aside)."""
        return (self.row_count, self.columns_sha256, self.rows_digest) == (
            other.row_count,
            other.columns_sha256,
            other.rows_digest,
        )


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def table_digest(
    connection: Any, schema: str, table: str, excluded: Sequence[str] = RUN_STAMP_COLUMNS
) -> TableDigest:
    """The digest of ``schema.table`` on a DuckDB ``connection``.

    ``excluded`` columns (default: the run stamps) are left out of both digests.
    """
    columns = connection.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() and table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema, table],
    ).fetchall()
    excluded_lower = {name.lower() for name in excluded}
    kept = [(name, kind) for name, kind in columns if name.lower() not in excluded_lower]
    dropped = tuple(name for name, _ in columns if name.lower() in excluded_lower)
    columns_sha256 = hashlib.sha256(
        "".join(f"{name} {kind}\n" for name, kind in kept).encode()
    ).hexdigest()
    relation = f"{_quote(schema)}.{_quote(table)}"
    if kept:
        row_hash = "hash(" + ", ".join(_quote(name) for name, _ in kept) + ")"
        row_count, hash_sum = connection.execute(
            f"select count(*), coalesce(sum({row_hash}), 0) from {relation}"
        ).fetchone()
    else:
        row_count = connection.execute(f"select count(*) from {relation}").fetchone()[0]
        hash_sum = 0
    return TableDigest(
        schema=schema,
        table=table,
        row_count=int(row_count),
        columns_sha256=columns_sha256,
        rows_digest=f"{int(hash_sum) % _HASH_MODULUS:016x}",
        excluded_columns=dropped,
    )


def table_digests(connection: Any, schemas: Sequence[str] = DEFAULT_SCHEMAS) -> list[TableDigest]:
    """Digests of every relation in ``schemas`` (in that order, then by name); absent schemas
    give nothing, dbt's ``__dbt_tmp`` relations are skipped."""
    wanted = list(schemas)
    if not wanted:
        return []
    rows = connection.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = current_database() and table_schema in ("
        + ", ".join("?" for _ in wanted)
        + ")",
        wanted,
    ).fetchall()
    rows = [(schema, table) for schema, table in rows if SCRATCH_MARKER not in table]
    rows.sort(key=lambda row: (wanted.index(row[0]), row[1]))
    return [table_digest(connection, schema, table) for schema, table in rows]


def database_digests(path: str, schemas: Sequence[str] = DEFAULT_SCHEMAS) -> list[TableDigest]:
    """:func:`table_digests` of the DuckDB file at ``path``, opened read-only."""
    import duckdb

    connection = duckdb.connect(str(path), read_only=True)
    try:
        return table_digests(connection, schemas)
    finally:
        connection.close()


def to_json(digests: Sequence[TableDigest]) -> dict[str, dict[str, Any]]:
    """``{"schema.table": {row_count, columns_sha256, rows_digest, excluded_columns}}``."""
    out: dict[str, dict[str, Any]] = {}
    for digest in digests:
        record = asdict(digest)
        del record["schema"], record["table"]
        record["excluded_columns"] = list(digest.excluded_columns)
        out[digest.relation] = record
    return out


def differences(
    before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """What differs between two :func:`to_json` results, one line a relation (empty: identical)."""
    lines = []
    for relation in sorted(set(before) | set(after)):
        if relation not in after:
            lines.append(f"{relation}: missing in the second warehouse")
        elif relation not in before:
            lines.append(f"{relation}: missing in the first warehouse")
        else:
            changed = [
                f"{key} {before[relation][key]} -> {after[relation][key]}"
                for key in ("row_count", "columns_sha256", "rows_digest")
                if before[relation][key] != after[relation][key]
            ]
            if changed:
                lines.append(f"{relation}: " + ", ".join(changed))
    return lines


def format_table(digests: Sequence[TableDigest]) -> str:
    """The digests as a fixed-width text table."""
    if not digests:
        return "no tables"
    width = max(len("relation"), *(len(d.relation) for d in digests))
    lines = [
        f"{'relation':<{width}}  {'rows':>12}  {'rows digest':<16}  columns",
        f"{'-' * width}  {'-' * 12}  {'-' * 16}  {'-' * 12}",
    ]
    for digest in digests:
        lines.append(
            f"{digest.relation:<{width}}  {digest.row_count:>12,}  {digest.rows_digest}  "
            f"{digest.columns_sha256[:12]}"
        )
    return "\n".join(lines)
