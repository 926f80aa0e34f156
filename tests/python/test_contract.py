"""The raw data contract check (warehouse_ml.contract) on small Parquet files written here."""

from __future__ import annotations

import json
import types
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from warehouse_ml import contract
from warehouse_ml.contract import DeclaredColumn, TableContract
from warehouse_ml.duckdb_plugin import register_contract_functions

CUSTOMERS = TableContract(
    source="shop",
    name="customers",
    identifier="customers",
    columns=(
        DeclaredColumn("customer_id", "bigint"),
        DeclaredColumn("signed_up_at", "timestamp"),
        DeclaredColumn("segment", "varchar"),
    ),
    extra_columns_var="extra_customer_columns",
    extra_columns={},
)
PRODUCTS = TableContract(
    source="shop",
    name="products",
    identifier="products",
    columns=(DeclaredColumn("product_id", "bigint"), DeclaredColumn("list_price", "double")),
)


def customers_table(**replace: pa.Array) -> pa.Table:
    """Two valid customer rows; ``replace`` swaps, adds (or, with None, drops) columns."""
    columns: dict[str, pa.Array | None] = {
        "customer_id": pa.array([1, 2], pa.int64()),
        "signed_up_at": pa.array([0, 86_400_000_000], pa.timestamp("us")),
        "segment": pa.array(["consumer", "enterprise"]),
        **replace,
    }
    return pa.table({name: array for name, array in columns.items() if array is not None})


def products_table() -> pa.Table:
    return pa.table({"product_id": pa.array([1], pa.int64()), "list_price": [9.5]})


def write_raw(root: Path, customers: pa.Table | None = None) -> Path:
    """A raw folder with one customers file and one products file."""
    (root / "customers").mkdir(parents=True)
    (root / "products").mkdir()
    pq.write_table(
        customers if customers is not None else customers_table(),
        root / "customers" / "part-0.parquet",
    )
    pq.write_table(products_table(), root / "products" / "part-0.parquet")
    return root


def with_extra(roles: object, var: str = "extra_customer_columns") -> TableContract:
    return TableContract(
        CUSTOMERS.source, CUSTOMERS.name, CUSTOMERS.identifier, CUSTOMERS.columns, var, roles
    )


def messages(raw: Path, *tables: TableContract) -> list[str]:
    return [str(problem) for problem in contract.check_raw_contract(str(raw), tables)]


def test_matching_files_have_no_problems(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "raw", customers_table(customer_id=pa.array([1, 2], pa.int32())))
    assert messages(raw, CUSTOMERS, PRODUCTS) == []


def test_time_zone_aware_timestamp_is_a_timestamp(tmp_path: Path) -> None:
    aware = pa.array([0, 1], pa.timestamp("us", tz="+02:00"))
    raw = write_raw(tmp_path / "raw", customers_table(signed_up_at=aware))
    assert pq.read_schema(raw / "customers" / "part-0.parquet").field("signed_up_at").type.tz
    assert messages(raw, CUSTOMERS) == []
    assert contract.declared_family("TIMESTAMP WITH TIME ZONE") == "timestamp"


def test_dictionary_encoded_text_is_text(tmp_path: Path) -> None:
    segment = pa.array(["consumer", "enterprise"]).dictionary_encode()
    raw = write_raw(tmp_path / "raw", customers_table(segment=segment))
    assert messages(raw, CUSTOMERS) == []


def test_missing_column_names_file_column_expected_and_fix(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "raw", customers_table(segment=None))
    [problem] = contract.check_raw_contract(str(raw), [CUSTOMERS])
    assert str(problem) == (
        f"{raw}/customers/part-0.parquet: column 'segment' is missing, expected VARCHAR (text). "
        "Fix: add the column 'segment' to the file."
    )
    assert (problem.location, problem.column, problem.found, problem.expected) == (
        f"{raw}/customers/part-0.parquet", "segment", None, "VARCHAR (text)",
    )  # fmt: skip


def test_wrong_family_names_found_and_expected_types(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "raw", customers_table(customer_id=pa.array(["1", "2"])))
    assert messages(raw, CUSTOMERS) == [
        f"{raw}/customers/part-0.parquet: column 'customer_id' is string (text), expected BIGINT "
        "(integer). Fix: write 'customer_id' as BIGINT (any type of the integer family is "
        "accepted)."
    ]


def test_date_is_not_a_timestamp(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "raw", customers_table(signed_up_at=pa.array([0, 1], pa.date32())))
    [problem] = contract.check_raw_contract(str(raw), [CUSTOMERS])
    assert problem.found == "date32[day]"
    assert "is date32[day] (date32[day]), expected TIMESTAMP (timestamp)" in str(problem)


def test_column_names_match_case_insensitively(tmp_path: Path) -> None:
    table = customers_table().rename_columns(["Customer_ID", "signed_up_at", "SEGMENT"])
    raw = write_raw(tmp_path / "raw", table)
    assert messages(raw, CUSTOMERS) == []


@pytest.mark.parametrize(
    ("role", "array"),
    [
        ("numeric", pa.array([1, 2], pa.int16())),
        ("numeric", pa.array([0.5, 1.5], pa.float32())),
        ("categorical", pa.array(["a", "b"])),
        ("categorical", pa.array([3, 4], pa.int64())),
    ],
)
def test_extra_column_of_an_accepted_family_passes(
    tmp_path: Path, role: str, array: pa.Array
) -> None:
    raw = write_raw(tmp_path / "raw", customers_table(loyalty=array))
    assert messages(raw, with_extra({"loyalty": role})) == []


def test_extra_column_of_a_refused_family_names_role_and_var(tmp_path: Path) -> None:
    raw = write_raw(
        tmp_path / "raw",
        customers_table(loyalty=pa.array(["gold", "silver"]), tier=pa.array([0.5, 1.5])),
    )
    assert messages(raw, with_extra({"loyalty": "numeric", "tier": "categorical"})) == [
        f"{raw}/customers/part-0.parquet: column 'loyalty' (var extra_customer_columns: numeric) "
        "is string (text), expected integer or floating point. Fix: write 'loyalty' as integer "
        "or floating point, or list it as categorical in var extra_customer_columns if that is "
        "what it is.",
        f"{raw}/customers/part-0.parquet: column 'tier' (var extra_customer_columns: categorical) "
        "is double (floating point), expected text or integer. Fix: write 'tier' as text or "
        "integer, or list it as numeric in var extra_customer_columns if that is what it is.",
    ]


def test_listed_extra_column_missing_from_a_file_fails_by_name(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "raw")
    impressions = TableContract(
        "ads", "impressions", "customers", CUSTOMERS.columns, "extra_impression_columns",
        {"user_affinity": "numeric"},
    )  # fmt: skip
    assert messages(raw, impressions) == [
        "column 'user_affinity' listed in var extra_impression_columns is missing from "
        f"{raw}/customers/part-0.parquet. Fix: add 'user_affinity' to the file or remove it "
        "from the var."
    ]


def test_bad_role_in_the_var_fails_naming_the_var(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "raw", customers_table(loyalty=pa.array([1, 2])))
    [problem] = contract.check_raw_contract(str(raw), [with_extra({"loyalty": "number"})])
    assert str(problem) == (
        "var extra_customer_columns: column 'loyalty' has role \"number\", expected numeric or "
        "categorical. Fix: set extra_customer_columns: {loyalty: numeric} or {loyalty: "
        "categorical}."
    )
    assert problem.location == "var extra_customer_columns"


def test_var_that_is_not_a_mapping_fails_naming_the_var(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "raw")
    assert messages(raw, with_extra(["loyalty"])) == [
        "var extra_customer_columns must be a mapping {column: numeric | categorical}, got "
        "[\"loyalty\"]. Fix: e.g. --vars '{extra_customer_columns: {my_column: numeric}}'."
    ]


def test_extra_column_that_is_declared_already_is_refused(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "raw")
    assert messages(raw, with_extra({"Segment": "categorical"})) == [
        "var extra_customer_columns lists 'Segment', a declared column of shop.customers. Fix: "
        "remove it from the var (staging already reads it)."
    ]


def test_extra_column_name_must_be_an_identifier(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "raw")
    assert messages(raw, with_extra({"my col": "numeric"})) == [
        "var extra_customer_columns: column name 'my col' is not a plain identifier. Fix: rename "
        "it in the files to letters, digits and underscores."
    ]


def test_empty_table_folder_is_reported_with_the_table(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "raw")
    (raw / "products" / "part-0.parquet").unlink()
    assert messages(raw, CUSTOMERS, PRODUCTS) == [
        f"{raw}/products/: no Parquet files (expected {raw}/products/*.parquet for source table "
        "shop.products). Fix: write the products table there as Parquet."
    ]


def test_unreadable_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "raw")
    (raw / "products" / "part-1.parquet").write_text("not parquet")
    [problem] = contract.check_raw_contract(str(raw), [PRODUCTS])
    assert str(problem).startswith(f"{raw}/products/part-1.parquet: not a readable Parquet file (")


def test_undeclared_type_is_reported_for_the_source(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "raw")
    untyped = TableContract("shop", "products", "products", (DeclaredColumn("product_id", None),))
    assert messages(raw, untyped) == [
        "source shop.products, column 'product_id': no data_type declared. Fix: declare it in "
        "the source's yml (it is the contract)."
    ]


@pytest.mark.parametrize("make_folder", [False, True])
def test_missing_or_empty_raw_path_is_raw_data_not_found(tmp_path: Path, make_folder: bool) -> None:
    raw = tmp_path / "nowhere"
    if make_folder:
        (raw / "customers").mkdir(parents=True)
    message = contract.check_raw_contract_json(str(raw) + "/", contract_json([CUSTOMERS, PRODUCTS]))
    assert message == (
        f"Raw data not found: raw_data_path '{raw}' does not exist or holds no Parquet files "
        "(expected <raw_data_path>/<table>/*.parquet for the tables customers, products).\n"
        f"Fix: generate data there (warehouse-ml generate --out {raw}) or point the "
        "raw_data_path var at your raw folder, e.g. --vars '{raw_data_path: /path/to/raw}'. "
        "See docs/raw_data_contract.md."
    )


def contract_json(tables: list[TableContract]) -> str:
    """The contract as the validate_raw_sources hook writes it."""
    return json.dumps(
        {
            "tables": [
                {
                    "source": table.source,
                    "name": table.name,
                    "identifier": table.identifier,
                    "columns": [{"name": c.name, "data_type": c.data_type} for c in table.columns],
                    "extra_columns_var": table.extra_columns_var,
                    "extra_columns": table.extra_columns,
                }
                for table in tables
            ]
        }
    )


def test_message_gathers_every_problem_under_one_header(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "raw", customers_table(segment=None))
    (raw / "products" / "part-0.parquet").unlink()
    message = contract.check_raw_contract_json(str(raw), contract_json([CUSTOMERS, PRODUCTS]))
    assert message == (
        f"Raw data does not match the contract; nothing was built. 2 problem(s) under "
        f"raw_data_path '{raw}':\n"
        f"  - {raw}/customers/part-0.parquet: column 'segment' is missing, expected VARCHAR "
        "(text). Fix: add the column 'segment' to the file.\n"
        f"  - {raw}/products/: no Parquet files (expected {raw}/products/*.parquet for source "
        "table shop.products). Fix: write the products table there as Parquet.\n"
        "See docs/raw_data_contract.md for the tables, columns and types the pipeline reads."
    )


def test_relative_raw_path_is_read_from_base_dir(tmp_path: Path) -> None:
    write_raw(tmp_path / "raw", customers_table(segment=None))
    [problem] = contract.check_raw_contract("raw", [CUSTOMERS], base_dir=tmp_path)
    assert problem.location == "raw/customers/part-0.parquet"


def test_extra_column_spark_types_follow_the_file(tmp_path: Path) -> None:
    raw = write_raw(
        tmp_path / "raw",
        customers_table(loyalty=pa.array([1, 2], pa.int32()), tier=pa.array(["a", "b"]),
                        score=pa.array([0.5, 1.0])),
    )  # fmt: skip
    roles = {"loyalty": "categorical", "tier": "categorical", "score": "numeric", "gone": "numeric"}
    assert contract.extra_column_types(str(raw), [with_extra(roles), PRODUCTS]) == {
        "shop.customers": {"loyalty": "bigint", "tier": "string", "score": "double"}
    }


def test_duckdb_functions_return_the_same_text(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "it's raw", customers_table(segment=None, loyalty=pa.array([1, 2])))
    document = contract_json([with_extra({"loyalty": "categorical"}), PRODUCTS])
    connection = duckdb.connect()
    register_contract_functions(connection)
    cursor = connection.cursor()  # dbt-duckdb runs SQL on cursors of the configured connection

    def quoted(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    [(message,)] = cursor.execute(
        f"select {contract.CHECK_FUNCTION}({quoted(str(raw))}, {quoted(document)})"
    ).fetchall()
    assert message == contract.check_raw_contract_json(str(raw), document)
    assert "column 'segment' is missing" in message
    [(types,)] = cursor.execute(
        f"select {contract.COLUMN_TYPES_FUNCTION}({quoted(str(raw))}, {quoted(document)})"
    ).fetchall()
    assert json.loads(types) == {"shop.customers": {"loyalty": "bigint"}}


def test_extra_column_name_must_be_lowercase_as_staging_requires(tmp_path: Path) -> None:
    """The rule of macros/staging/extra_columns.sql: ^[a-z_][a-z0-9_]*$."""
    raw = write_raw(tmp_path / "raw", customers_table(Loyalty=pa.array([1, 2])))
    assert messages(raw, with_extra({"Loyalty": "numeric"})) == [
        "var extra_customer_columns: column name 'Loyalty' is not lowercase. Fix: list it as "
        "'loyalty' (file columns match case-insensitively)."
    ]
    assert messages(raw, with_extra({"loyalty": "numeric"})) == []


def test_file_uri_raw_path_is_read_through_pyarrow(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "raw", customers_table(segment=None, loyalty=pa.array([1, 2])))
    uri = raw.as_uri()
    assert uri.startswith("file:///")
    assert messages(uri, CUSTOMERS, PRODUCTS) == [
        f"{uri}/customers/part-0.parquet: column 'segment' is missing, expected VARCHAR (text). "
        "Fix: add the column 'segment' to the file."
    ]
    roles = with_extra({"loyalty": "categorical"})
    assert contract.extra_column_types(uri + "/", [roles]) == {
        "shop.customers": {"loyalty": "bigint"}
    }


def test_file_uri_without_data_is_raw_data_not_found(tmp_path: Path) -> None:
    uri = (tmp_path / "nowhere").as_uri()
    message = contract.check_raw_contract_json(uri, contract_json([CUSTOMERS, PRODUCTS]))
    assert message.startswith(f"Raw data not found: raw_data_path '{uri}' does not exist")


def test_unsupported_uri_scheme_is_one_clear_problem(tmp_path: Path) -> None:
    [problem] = contract.check_raw_contract("foo://x/raw", [CUSTOMERS, PRODUCTS])
    assert problem.location == "foo://x/raw"
    assert str(problem).startswith(
        "Raw data could not be read: the contract check could not open raw_data_path "
        "'foo://x/raw' ("
    )
    message = contract.check_raw_contract_json("foo://x/raw", contract_json([CUSTOMERS]))
    assert message == str(problem)
    assert contract.extra_column_types("foo://x/raw", [with_extra({"loyalty": "numeric"})]) == {}


@pytest.mark.parametrize("scheme", ["s3a", "s3n"])
def test_hadoop_s3_schemes_are_opened_as_s3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    write_raw(tmp_path / "raw")
    opened = []

    def from_uri(uri: str):
        opened.append(uri)
        return pafs.LocalFileSystem(), str(tmp_path / "raw")

    fake_fs = types.SimpleNamespace(**vars(pafs))
    fake_fs.FileSystem = types.SimpleNamespace(from_uri=from_uri)
    monkeypatch.setattr(contract, "pafs", fake_fs)
    assert messages(f"{scheme}://bucket/raw", CUSTOMERS, PRODUCTS) == []
    assert opened == ["s3://bucket/raw"]
