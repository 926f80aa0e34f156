"""The ``warehouse-ml`` command line: generate raw data, summarise a built warehouse, digest it,
export and import the model registries."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from warehouse_ml.generate.ads import NEW_CATEGORY_EFFECT, NEW_CATEGORY_SHARE
from warehouse_ml.publish import BUILD_DB, PUBLISHED_DB

# Schemas in the order the summary lists them (others follow alphabetically).
SCHEMA_ORDER = ("marts", "ml", "training", "intermediate", "staging", "reference")
# Scratch relations dbt leaves behind (e.g. an incremental Python model's temporary table).
SCRATCH_MARKER = "__dbt_tmp"


def database_option(*names: str, default: Path, help: str):
    """The ``--db`` (or ``--build``) option of a command that reads a DuckDB file."""
    return click.option(
        *names,
        type=click.Path(dir_okay=False, path_type=Path),
        default=default,
        show_default=True,
        help=help,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="warehouse_ml")
def main() -> None:
    """warehouse_ml: train on a sample, score everything."""


def _check_writable(out: Path) -> None:
    """Raise a click error unless ``out`` exists (or can be created) and is writable."""
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise click.BadParameter(f"{probe} exists and is not a directory.", param_hint="--out")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise click.BadParameter(f"{probe} is not writable.", param_hint="--out")


@main.command()
@click.option(
    "--scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Size factor: scale 1 is about 1M transactions and 5M impressions (linear).",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=42, show_default=True, help="Random seed (>= 0)."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data/raw"),
    show_default=True,
    help="Output folder: <out>/<table>/part-*.parquet and <out>/_manifest.json.",
)
@click.option(
    "--new-category/--no-new-category",
    default=True,
    show_default=True,
    help="Launch the new product category (wearables, 2025-09-01) with its products, ads and "
    "sales; --no-new-category generates the same shop and ad platform without the launch.",
)
@click.option(
    "--new-category-share",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    default=NEW_CATEGORY_SHARE,
    show_default=True,
    help="The launched category's share of impressions at the end of the data; it ramps up "
    "from the launch by a factor e every 14 days, so the history holds little of it: a "
    "same-size random training sample starves it, the stratified one (a minimum per stratum) "
    "does not.",
)
@click.option(
    "--new-category-effect",
    type=click.FloatRange(min=0),
    default=NEW_CATEGORY_EFFECT,
    show_default=True,
    help="How differently the launched category clicks: a base lift and its own placement, "
    "device and hour response, times this factor (0: like the old categories).",
)
@click.option("--force", is_flag=True, help="Regenerate even if the data set is up to date.")
def generate(
    scale: float,
    seed: int,
    out: Path,
    new_category: bool,
    new_category_share: float,
    new_category_effect: float,
    force: bool,
) -> None:
    """Generate the raw Parquet tables (docs/raw_data_contract.md)."""
    from tqdm import tqdm

    from warehouse_ml import generate as gen

    _check_writable(out)
    launch = {
        "new_category": new_category,
        "new_category_share": new_category_share,
        "new_category_effect": new_category_effect,
    }
    if not force and gen.is_up_to_date(out, scale, seed, **launch):
        click.echo(
            f"{out} is up to date (scale {scale:g}, seed {seed}, generator "
            f"{gen.GENERATOR_VERSION}); use --force to regenerate."
        )
        return
    try:
        with tqdm(total=gen.n_chunks(scale), desc="generate", unit="chunk", file=sys.stderr) as bar:

            def on_chunk(table: str) -> None:
                bar.set_postfix_str(table)
                bar.update(1)

            manifest = gen.write_dataset(out, scale, seed, on_chunk=on_chunk, **launch)
    except OSError as exc:
        raise click.ClickException(f"could not write {out}: {exc}") from exc
    counts = ", ".join(f"{t} {n:,}" for t, n in manifest["row_counts"].items())
    click.echo(f"wrote {out} (scale {scale:g}, seed {seed}): {counts}")


def _schema_rank(schema: str) -> tuple[int, str]:
    for rank, name in enumerate(SCHEMA_ORDER):
        if schema == name or schema.endswith("_" + name):
            return rank, schema
    return len(SCHEMA_ORDER), schema


# The serving models' headline metrics in the summary: (metric, label, format).
HEADLINE_METRICS = (
    ("roc_auc", "ROC AUC", "{:.3f}"),
    ("pr_auc", "PR AUC", "{:.3f}"),
    ("normalized_entropy", "NE", "{:.3f}"),
    ("calibration", "mean predicted/observed", "{:.3f}"),
)
# Printed after the calibration: on a few hundred positives, noise alone moves it by percents.
CALIBRATION_ERROR = "calibration_standard_error"


def _publication(con) -> dict | None:
    """The published database's ``main.publication`` row (None for a build database)."""
    found = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'main' and table_name = 'publication'"
    ).fetchone()[0]
    if not found:
        return None
    cursor = con.execute("select publication_id, published_at from main.publication")
    row = cursor.fetchone()
    return dict(zip(("publication_id", "published_at"), row, strict=True)) if row else None


def _serving_metrics(con) -> list[tuple[str, str, str, dict[str, float]]]:
    """(model, champion version, dataset, {metric: value}) of each serving model and dataset."""
    needed = {"ml_model_aliases", "ml_model_metrics"}
    found = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'ml'"
        ).fetchall()
    }
    if not needed <= found:
        return []
    names = (*(metric for metric, _, _ in HEADLINE_METRICS), CALIBRATION_ERROR)
    metric_list = ", ".join(f"'{metric}'" for metric in names)
    rows = con.execute(
        "select aliases.model_name, aliases.model_version, metrics.dataset, metrics.metric, "
        "metrics.value from ml.ml_model_aliases as aliases "
        "inner join ml.ml_model_metrics as metrics "
        "on aliases.model_name = metrics.model_name "
        "and aliases.model_version = metrics.model_version "
        f"where aliases.alias = 'champion' and metrics.bin is null and metrics.metric in "
        f"({metric_list}) order by 1, 3"
    ).fetchall()
    grouped: dict[tuple[str, str, str], dict[str, float]] = {}
    for model, version, dataset, metric, value in rows:
        grouped.setdefault((model, version, dataset), {})[metric] = value
    return [
        (model, version, dataset, values) for (model, version, dataset), values in grouped.items()
    ]


def _echo_serving_models(headline: list[tuple[str, str, str, dict[str, float]]]) -> None:
    if not headline:
        return
    click.echo("\nServing models (champion of ml.ml_model_aliases, from ml.ml_model_metrics):")
    for model, version, dataset, values in headline:
        figures = "  ".join(
            f"{label} {fmt.format(values[metric])}"
            for metric, label, fmt in HEADLINE_METRICS
            if values.get(metric) is not None
        )
        if values.get("calibration") is not None and values.get(CALIBRATION_ERROR) is not None:
            figures += f" (s.e. {values[CALIBRATION_ERROR]:.3f})"
        click.echo(f"  {model} {version} on {dataset}: {figures}")


def _echo_bi_connection(db: Path, publication: dict | None) -> None:
    query = "select * from marts.fct_ad_ctr_daily limit 5"
    python = (
        f'.venv/bin/python -c "import duckdb; '
        f"duckdb.connect('{db}', read_only=True).sql('{query}').show()\""
    )
    click.echo("\nConnect BI (DuckDB, read-only):")
    if publication:
        click.echo(
            f"  {db} is publication {publication['publication_id']} "
            f"({publication['published_at']:%Y-%m-%d %H:%M:%S} UTC): views over Parquet, "
            "replaced only by warehouse-ml publish after a fully passing build."
        )
    else:
        click.echo(
            f"  {db} is a build database, not a publication: BI tools should open the published "
            "one (warehouse-ml publish writes data/warehouse.duckdb)."
        )
    click.echo(f"  open {db.resolve()} read-only (DuckDB access_mode READ_ONLY), schemas marts, ml")
    click.echo(f"  try it: {python}")


@main.command()
@database_option(
    "--db",
    default=PUBLISHED_DB,
    help="Published database (warehouse-ml publish), or any DuckDB file built by dbt.",
)
def summary(db: Path) -> None:
    """Print the warehouse's schemas and tables with row counts, and where to look next."""
    import duckdb

    if not db.is_file():
        raise click.ClickException(
            f"{db} does not exist. Build the warehouse first: make demo (or "
            f"{_dbt_command()} build --profiles-dir profiles)."
        )
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        raise click.ClickException(f"cannot open {db} read-only: {exc}") from exc
    try:
        rows = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_catalog = current_database() "
            "and table_schema not in ('information_schema', 'pg_catalog')"
        ).fetchall()
        rows.sort(key=lambda r: (_schema_rank(r[0]), r[1]))
        publication = _publication(con)
        headline = _serving_metrics(con)
        lines = []
        for schema, table, kind in rows:
            if SCRATCH_MARKER in table:
                continue
            count = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            lines.append((f"{schema}.{table}", "view" if kind == "VIEW" else "table", count))
    finally:
        con.close()
    if not lines:
        click.echo(f"{db} holds no tables yet: run {_dbt_command()} build --profiles-dir profiles.")
        return
    width = max(len(name) for name, _, _ in lines)
    click.echo(f"{'relation':<{width}}  {'kind':<5}  {'rows':>12}")
    click.echo(f"{'-' * width}  {'-' * 5}  {'-' * 12}")
    for name, kind, count in lines:
        click.echo(f"{name:<{width}}  {kind:<5}  {count:>12,}")
    marts = [name for name, _, _ in lines if _schema_rank(name.split(".")[0])[0] == 0]
    ml = [name for name, _, _ in lines if _schema_rank(name.split(".")[0])[0] == 1]
    click.echo("\nWhere to look next:")
    if marts:
        click.echo(f"  marts (for BI and analysis): {', '.join(marts[:6])}")
    if ml:
        click.echo(f"  ml (specs, registries, versions, scores): {', '.join(ml[:6])}")
    dbt = _dbt_command()
    click.echo(
        f"  lineage:    WAREHOUSE_ML_DUCKDB_PATH={BUILD_DB} {dbt} docs generate "
        f"--profiles-dir profiles && {dbt} docs serve --profiles-dir profiles"
    )
    _echo_serving_models(headline)
    report = Path("reports/index.html")
    if report.is_file():
        click.echo(f"\nModel report: {report} (open it in a browser; no network needed)")
    else:
        click.echo(
            f"\nModel report: not written yet ({report}): "
            f".venv/bin/warehouse-ml report --db {db} --out reports/"
        )
    _echo_bi_connection(db, publication)


@main.command()
@database_option("--build", "build_db", default=BUILD_DB, help="DuckDB file the dbt build wrote.")
@click.option(
    "--to",
    "published_db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=PUBLISHED_DB,
    show_default=True,
    help="Published database BI tools open (replaced atomically; Parquet in published/ beside it).",
)
@click.option(
    "--run-results",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("target/run_results.json"),
    show_default=True,
    help="run_results.json of that build: only a full dbt build with every node passed publishes.",
)
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Publications kept, the new one included (readers of the previous one keep working).",
)
def publish(build_db: Path, published_db: Path, run_results: Path, keep: int) -> None:
    """Publish a fully tested build: marts and ML outputs as Parquet behind a DuckDB of views."""
    from warehouse_ml import publish as publishing

    try:
        done = publishing.publish(
            build_db,
            published_db,
            run_results=run_results,
            keep=keep,
            on_relation=lambda entry: click.echo(
                f"  {entry['schema']}.{entry['relation']}: {entry['rows']:,} rows, "
                f"{entry['bytes'] / 2**20:,.1f} MiB, {entry['seconds']:.1f} s"
            ),
        )
    except publishing.BuildNotPublishableError as exc:
        raise click.ClickException(
            f"not published: {exc}\n{publishing.describe_current(published_db)}"
        ) from exc
    except publishing.PublicationError as exc:
        raise click.ClickException(f"not published: {exc}") from exc
    rows = sum(entry["rows"] for entry in done.relations)
    click.echo(
        f"published {done.publication_id}: {len(done.relations)} relations, {rows:,} rows, "
        f"in {done.seconds:.1f} s -> {published_db} (Parquet in {done.folder})"
    )
    if done.pruned:
        click.echo(f"pruned older publications: {', '.join(done.pruned)}")


def _dbt_command() -> str:
    """The dbt of this environment as a command that works as printed, with or without an
    activated venv: ``.venv/bin/dbt`` (relative when it lies under the working directory)."""
    dbt = Path(sys.executable).with_name("dbt")
    try:
        return str(dbt.relative_to(Path.cwd()))
    except ValueError:
        return str(dbt)


@main.command()
@database_option(
    "--db",
    default=BUILD_DB,
    help="DuckDB file built by dbt (the build database holds the registries).",
)
@click.option(
    "--schemas",
    multiple=True,
    help="Schema to digest (repeat the option for several; default: "
    "staging, intermediate, marts, training, ml).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the digests as JSON to this file.",
)
def digest(db: Path, schemas: tuple[str, ...], out: Path | None) -> None:
    """Print each table's row count and order-independent content digest (run stamps aside).

    Two builds from the same raw data and vars give the same digests: compare the JSON files.
    """
    import json

    import duckdb

    from warehouse_ml import digest as digests

    if not db.is_file():
        raise click.ClickException(
            f"{db} does not exist. Build the warehouse first: make demo (or "
            f"{_dbt_command()} build --profiles-dir profiles)."
        )
    try:
        found = digests.database_digests(str(db), schemas or digests.DEFAULT_SCHEMAS)
    except duckdb.Error as exc:
        raise click.ClickException(f"cannot digest {db}: {exc}") from exc
    click.echo(digests.format_table(found))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(digests.to_json(found), indent=2, sort_keys=True) + "\n")
        click.echo(f"wrote {out}")


@main.command()
@database_option("--db", default=PUBLISHED_DB, help="DuckDB file built by dbt (opened read-only).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Output folder: <out>/index.html and <out>/<model>.html.",
)
def report(db: Path, out: Path) -> None:
    """Write the model report: self-contained HTML per model (charts as inline SVG) + index."""
    from warehouse_ml.errors import ReportInputError
    from warehouse_ml.report import write_report

    _check_writable(out)
    try:
        paths = write_report(db, out)
    except ReportInputError as exc:
        raise click.ClickException(str(exc)) from exc
    for path in paths:
        click.echo(f"wrote {path}")


@main.group()
def registry() -> None:
    """Back up the model registries to Parquet and restore them."""


@registry.command("export")
@database_option(
    "--db",
    default=BUILD_DB,
    help="DuckDB file built by dbt (the build database holds the registries).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Output folder: <out>/ml_<model>_model.parquet and <out>/manifest.json.",
)
def registry_export(db: Path, out: Path) -> None:
    """Write every registry table (found from ml_model_specs) to Parquet, with a manifest."""
    from warehouse_ml import registry_archive
    from warehouse_ml.errors import WarehouseMLError

    if not db.is_file():
        raise click.ClickException(f"{db} does not exist. Build the warehouse first: make demo.")
    _check_writable(out)
    try:
        manifest = registry_archive.export_registry(db, out)
    except WarehouseMLError as exc:
        raise click.ClickException(str(exc)) from exc
    tables = ", ".join(f"{t} {e['rows']:,} rows" for t, e in manifest["tables"].items())
    click.echo(f"wrote {out} (schema {manifest['schema']}): {tables or 'no registry tables'}")


@registry.command("import")
@database_option(
    "--db",
    default=BUILD_DB,
    help="DuckDB file to restore into (created when absent): the build database.",
)
@click.option(
    "--from",
    "source",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="A folder written by warehouse-ml registry export.",
)
def registry_import(db: Path, source: Path) -> None:
    """Verify every exported row, then append the versions the warehouse does not hold yet."""
    from warehouse_ml import registry_archive
    from warehouse_ml.errors import WarehouseMLError

    try:
        appended = registry_archive.import_registry(db, source)
    except WarehouseMLError as exc:
        raise click.ClickException(str(exc)) from exc
    counts = ", ".join(f"{t} +{n:,}" for t, n in appended.items())
    click.echo(f"imported {source} into {db}: {counts or 'no registry tables'}")


@main.group()
def experiment() -> None:
    """Experiments on a built warehouse, with the project's own pipelines."""


@experiment.command("sampling")
@database_option(
    "--db",
    default=BUILD_DB,
    help="A built warehouse (the build database of `make demo`); opened read-only.",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Sampling seeds per arm (sampling_seed + 1000 k).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("benchmarks/results"),
    show_default=True,
    help="Folder of sampling_validity.json and .md.",
)
@click.option(
    "--raw",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data/raw"),
    show_default=True,
    help="The raw data the warehouse was built from (its manifest: the churn ceiling).",
)
@click.option("--vars", "dbt_vars", default=None, help="The build's dbt --vars (YAML).")
@click.option(
    "--transaction-fraction",
    type=float,
    default=0.1,
    show_default=True,
    help="Share of transactions (and of customers) in the transaction-vs-customer arm, (0, 1].",
)
@click.option(
    "--churn-fractions",
    default="0.01,0.02,0.05,0.1,0.25,0.5,1",
    show_default=True,
    help="Customer fractions of the churn learning curve, each in (0, 1].",
)
@click.option(
    "--negative-rates",
    default="1,0.1,0.025,0.01",
    show_default=True,
    help="CTR negative rates, each in (0, 1].",
)
def experiment_sampling(
    db: Path,
    seeds: int,
    out: Path,
    raw: Path,
    dbt_vars: str | None,
    transaction_fraction: float,
    churn_fractions: str,
    negative_rates: str,
) -> None:
    """Does a well-chosen sample train as well as all the data? (`make experiment`)"""
    from warehouse_ml.errors import WarehouseMLError
    from warehouse_ml.experiment import sampling

    def fractions(text: str, option: str) -> list[float]:
        try:
            return [float(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise click.BadParameter(
                f"give comma-separated fractions in (0, 1], got {text!r}", param_hint=option
            ) from None

    _check_writable(out)
    try:
        results = sampling.run(
            db,
            seeds=seeds,
            out=out,
            raw=raw,
            dbt_vars=dbt_vars,
            churn_fractions=fractions(churn_fractions, "--churn-fractions"),
            negative_rates=fractions(negative_rates, "--negative-rates"),
            transaction_fraction=transaction_fraction,
        )
    except WarehouseMLError as exc:
        raise click.ClickException(str(exc)) from exc
    for check in results["acceptance"]:
        click.echo(f"{'holds' if check['holds'] else 'DOES NOT HOLD'}: {check['claim']}")
    click.echo(f"wrote {out / 'sampling_validity.json'} and .md in {results['total_seconds']:.0f}s")


if __name__ == "__main__":
    main()
