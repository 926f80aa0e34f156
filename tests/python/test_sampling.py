"""Tests of the sampling macros (macros/sampling/) on DuckDB.

The macros are compiled by dbt in a throw-away project that links only the repository's macros and
the sampling singular tests, so other models in the tree do not affect these tests. The compiled SQL
is then run with the duckdb client at chosen thread counts and physical row orders.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
N_ROWS = 300_000
# Strata of very different sizes; 'new' is small like a newly launched category.
STRATA_SQL = """
    case
        when id % 100 < 50 then 'big'
        when id % 100 < 80 then 'medium'
        when id % 100 < 99 then 'small'
        else 'new'
    end
"""

dbt_main = pytest.importorskip("dbt.cli.main")


class DbtProject:
    """A minimal dbt project over the repository's macros, driven in-process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.database = root / "sampling.duckdb"  # the tables the compiled SQL runs on
        self.dbt_database = root / "dbt.duckdb"  # dbt's own; it keeps it open in-process
        self.messages: list[str] = []
        self.runner = dbt_main.dbtRunner(callbacks=[self._collect])

    def _collect(self, event) -> None:  # noqa: ANN001 - dbt EventMsg
        self.messages.append(event.info.msg)

    def invoke(self, *args: str) -> object:
        """Run a dbt command in this project; return dbt's result object."""
        self.messages.clear()
        previous = {key: os.environ.get(key) for key in ("WAREHOUSE_ML_DUCKDB_PATH",)}
        os.environ["WAREHOUSE_ML_DUCKDB_PATH"] = str(self.dbt_database)
        cwd = Path.cwd()
        os.chdir(self.root)
        try:
            return self.runner.invoke(
                [
                    *args,
                    "--profiles-dir",
                    str(ROOT / "profiles"),
                    "--target-path",
                    str(self.root / "target"),
                    "--log-path",
                    str(self.root / "logs"),
                ]
            )
        finally:
            os.chdir(cwd)
            for key, value in previous.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def compile(self, sql: str) -> str:
        """Compile an inline query; return the SQL."""
        result = self.invoke("compile", "--quiet", "--inline", sql)
        assert result.success, "\n".join(self.messages)
        return result.result.results[0].node.compiled_code

    def compile_error(self, sql: str) -> str:
        """Compile an inline query that must fail; return dbt's log text."""
        result = self.invoke("compile", "--inline", sql)
        assert not result.success, f"expected a compile error for: {sql}"
        return "\n".join(self.messages)


def write_representativeness_models(models: Path) -> None:
    """A population, a fair weighted sample of it and a biased one, each tested for drift."""
    models.mkdir()
    (models / "representativeness_population.sql").write_text(
        "select id, id % 4 as grp, cast((id * 7919) % 1000 as double) / 10 as x "
        "from range(20000) as ids(id)"
    )
    (models / "fair_sample.sql").write_text(
        "{{ stratified_sample(ref('representativeness_population'), 'grp', 'id', 1, "
        "allocation={'0': 0.5}, fraction=0.05) }}"
    )
    (models / "biased_sample.sql").write_text(
        "select *, cast(1 as double) as sample_weight "
        "from {{ ref('representativeness_population') }} where x < 60"
    )
    test = (
        "      - sample_is_representative:\n"
        "          arguments:\n"
        "            population: ref('representativeness_population')\n"
        "            features: [x, grp]\n"
        "            weight_column: sample_weight\n"
        "            alpha: 0.001\n"
    )
    # Churn-like rows: 4000 customers x 6 observation rows; 30% of customers are churn-prone (half
    # their rows churned), the rest churn on 2% of rows: a population churn rate of about 16%.
    (models / "churn_population.sql").write_text(
        "select customer_id * 6 + month as row_id, customer_id, month, "
        "case when customer_id % 10 < 3 then (customer_id + month) % 2 = 0 "
        "else (customer_id * 7 + month) % 50 = 0 end as is_churned, "
        "cast((customer_id * 7919 + month * 104729) % 1000 as double) as x "
        "from range(4000) as customers(customer_id) cross join range(6) as months(month)"
    )
    (models / "honest_cluster_sample.sql").write_text(
        "{{ cluster_sample(ref('churn_population'), 'customer_id', 0.27, seed=3, "
        "mode='portable') }}"
    )
    # The issue's label shift: a 30% customer sample that lost 40% of its churned customers' rows.
    (models / "label_shifted_sample.sql").write_text(
        "with sampled as ("
        "{{ cluster_sample(ref('churn_population'), 'customer_id', 0.3, seed=3, mode='portable') }}"
        "), churned_customers as (select distinct customer_id from sampled where is_churned) "
        "select * from sampled "
        "where customer_id not in (select customer_id from churned_customers) "
        "or (row_id * 7919) % 10 >= 4"
    )
    # CTR-like rows, about 3% clicked; negatives kept at 10%, weighted 1 / 0.1.
    (models / "click_population.sql").write_text(
        "select id as impression_id, (id * 7919) % 1000 < 30 as is_clicked, id % 24 as hour "
        "from range(60000) as ids(id)"
    )
    (models / "negative_downsampled_sample.sql").write_text(
        "{{ negative_downsample(ref('click_population'), 'is_clicked', 0.1, ['impression_id'], "
        "seed=5, mode='portable') }}"
    )
    churn_test = (
        "      - sample_is_representative:\n"
        "          arguments:\n"
        "            population: ref('churn_population')\n"
        "            features: [is_churned, x]\n"
        "            weight_column: sample_weight\n"
        "            cluster_column: customer_id\n"
        "            alpha: 0.001\n"
    )
    click_test = (
        "      - sample_is_representative:\n"
        "          arguments:\n"
        "            population: ref('click_population')\n"
        "            features: [is_clicked, hour]\n"
        "            weight_column: sample_weight\n"
        "            alpha: 0.001\n"
    )
    (models / "_models.yml").write_text(
        "version: 2\nmodels:\n"
        f"  - name: fair_sample\n    data_tests:\n{test}"
        f"  - name: biased_sample\n    data_tests:\n{test}"
        f"  - name: honest_cluster_sample\n    data_tests:\n{churn_test}"
        f"  - name: label_shifted_sample\n    data_tests:\n{churn_test}"
        f"  - name: negative_downsampled_sample\n    data_tests:\n{click_test}"
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DbtProject]:
    root = tmp_path_factory.mktemp("sampling_project")
    (root / "dbt_project.yml").write_text(
        "name: warehouse_ml\nversion: '0.1.0'\nconfig-version: 2\nprofile: warehouse_ml\n"
        "macro-paths: ['macros']\ntest-paths: ['sampling_tests', 'tests']\n"
        "model-paths: ['models']\n"
    )
    (root / "macros").symlink_to(ROOT / "macros")
    (root / "sampling_tests").symlink_to(ROOT / "tests" / "sampling")
    # dbt finds generic tests only in a real tests/generic folder (it does not follow nested links).
    (root / "tests" / "generic").mkdir(parents=True)
    for generic_test in (ROOT / "tests" / "generic").glob("*.sql"):
        shutil.copy(generic_test, root / "tests" / "generic" / generic_test.name)
    write_representativeness_models(root / "models")
    dbt_project = DbtProject(root)
    with duckdb.connect(str(dbt_project.database)) as con:
        con.execute(
            f"""
            create table population as
            select
                id,
                id // 7 as customer_id,
                {STRATA_SQL} as stratum,
                (id % 3 = 0) as is_positive,
                cast(1 + (id * 7919) % 1000 as double) as amount
            from range({N_ROWS}) as ids(id)
            """
        )
        # The same rows in another physical order.
        con.execute(
            "create table population_shuffled as select * from population order by md5(id::varchar)"
        )
    # dbt's database holds a population table too, for the compile-time column checks.
    with duckdb.connect(str(dbt_project.dbt_database)) as con:
        con.execute(f"attach '{dbt_project.database}' as sampling (read_only)")
        con.execute("create table population as select * from sampling.population limit 10")
    yield dbt_project


def run_ids(project: DbtProject, sql: str, table: str = "population", threads: int = 2) -> set[int]:
    """Run compiled SQL (with __SOURCE__ standing for the table) and return the sampled ids."""
    with duckdb.connect(str(project.database), read_only=True) as con:
        con.execute(f"set threads = {threads}")
        return {row[0] for row in con.sql(sql.replace("__SOURCE__", table)).fetchall()}


def run_rows(project: DbtProject, sql: str, table: str = "population") -> list[tuple]:
    with duckdb.connect(str(project.database), read_only=True) as con:
        con.execute("set threads = 2")
        return con.sql(sql.replace("__SOURCE__", table)).fetchall()


def sample_sql(project: DbtProject, macro_call: str) -> str:
    """Compile `select id from (<macro_call>)` over the source placeholder."""
    return project.compile(
        f"with source_rows as (select * from __SOURCE__) select id from ({macro_call}) as sampled"
    )


HASH_BASED = {
    "hash_native": "hash_sample('source_rows', 'id', 0.1, seed=SEED)",
    "hash_portable": "hash_sample('source_rows', ['id'], 0.1, seed=SEED, mode='portable')",
    "cluster": "cluster_sample('source_rows', 'customer_id', 0.1, seed=SEED)",
    "stratified": (
        "stratified_sample('source_rows', 'stratum', 'id', SEED, fraction=0.05, "
        "min_per_stratum=500)"
    ),
    "stratified_exact": (
        "stratified_sample('source_rows', 'stratum', 'id', SEED, allocation='equal', "
        "sample_size=4000, exact=true)"
    ),
    "negative_downsample": "negative_downsample('source_rows', 'is_positive', 0.1, 'id', SEED)",
}


@pytest.fixture(scope="module")
def compiled(project: DbtProject) -> Callable[[str, int], str]:
    cache: dict[tuple[str, int], str] = {}

    def get(name: str, seed: int) -> str:
        if (name, seed) not in cache:
            call = "{{ " + HASH_BASED[name].replace("SEED", str(seed)) + " }}"
            cache[(name, seed)] = sample_sql(project, call)
        return cache[(name, seed)]

    return get


@pytest.mark.parametrize("name", sorted(HASH_BASED))
def test_same_seed_same_rows_across_threads_and_row_order(
    project: DbtProject, compiled: Callable[[str, int], str], name: str
) -> None:
    sql = compiled(name, 42)
    reference = run_ids(project, sql, threads=1)
    assert len(reference) > 1000
    assert run_ids(project, sql, threads=2) == reference
    assert run_ids(project, sql, table="population_shuffled", threads=2) == reference


@pytest.mark.parametrize("name", ["hash_native", "hash_portable", "cluster"])
def test_different_seeds_give_independent_samples(
    project: DbtProject, compiled: Callable[[str, int], str], name: str
) -> None:
    first = run_ids(project, compiled(name, 42))
    second = run_ids(project, compiled(name, 43))
    overlap = len(first & second) / N_ROWS
    # Two independent 10% samples share 1% of the rows (customers are clusters of 7 rows).
    assert overlap == pytest.approx(0.01, abs=0.003)
    assert len(first) / N_ROWS == pytest.approx(0.1, abs=0.01)


def test_duckdb_hash_with_seed_argument_is_not_a_seeded_hash() -> None:
    """The trap the macros avoid: hash(k, 42) xor hash(k, 43) is the same for every k."""
    with duckdb.connect() as con:
        distinct = con.sql(
            "select count(distinct xor(hash(id, 42), hash(id, 43))) from range(1000) as t(id)"
        ).fetchall()[0][0]
    assert distinct == 1


def test_seeded_bernoulli_tablesample_depends_on_row_order(project: DbtProject) -> None:
    """The trap random_sample documents: the same seed picks other rows after a rebuild."""
    sql = sample_sql(project, "{{ random_sample('source_rows', fraction=0.1, seed=42) }}")
    assert "using sample bernoulli" in sql
    in_order = run_ids(project, sql, threads=1)
    assert run_ids(project, sql, threads=1) == in_order
    shuffled = run_ids(project, sql, table="population_shuffled", threads=1)
    assert len(in_order) == pytest.approx(0.1 * N_ROWS, rel=0.05)
    assert len(in_order & shuffled) / len(in_order) < 0.2


def test_spark_tablesample_spelling_is_block_sampling_on_duckdb() -> None:
    """`tablesample (p percent)` parses on DuckDB but keeps whole 2048-row vectors."""
    with duckdb.connect() as con:
        con.execute("set threads = 1")
        kept = con.sql(
            "select count(*) from range(100000) as t(id) tablesample (10 percent) repeatable (42)"
        ).fetchall()[0][0]
    assert kept % 2048 == 0


def stratum_counts(project: DbtProject, macro_call: str) -> dict[str, tuple[int, float]]:
    """Per stratum: (sampled rows, inclusion probability) of a stratified sample."""
    sql = project.compile(
        "with source_rows as (select * from __SOURCE__) "
        "select stratum, count(*), min(inclusion_probability), max(inclusion_probability) "
        f"from ({macro_call}) as sampled group by stratum"
    )
    result = {}
    for stratum, count, low, high in run_rows(project, sql):
        assert low == high
        result[stratum] = (count, low)
    return result


def population_counts(project: DbtProject) -> dict[str, int]:
    rows = run_rows(project, "select stratum, count(*) from population group by stratum")
    return dict(rows)


def test_stratified_sizes_within_binomial_tolerance(project: DbtProject) -> None:
    sizes = population_counts(project)
    counts = stratum_counts(
        project,
        "{{ stratified_sample('source_rows', 'stratum', 'id', 7, fraction=0.05, "
        "min_per_stratum=500) }}",
    )
    assert set(counts) == set(sizes)
    for stratum, size in sizes.items():
        expected_rate = max(0.05 * size, 500) / size
        count, rate = counts[stratum]
        assert rate == pytest.approx(expected_rate)
        tolerance = 4 * math.sqrt(size * rate * (1 - rate))
        assert abs(count - size * rate) <= tolerance, (stratum, count, size * rate)
    # The small new stratum (3000 rows) is raised from 150 to the minimum of 500.
    assert counts["new"][1] == pytest.approx(500 / 3000)


def test_stratified_exact_sizes(project: DbtProject) -> None:
    sizes = population_counts(project)
    equal = stratum_counts(
        project,
        "{{ stratified_sample('source_rows', 'stratum', 'id', 7, allocation='equal', "
        "sample_size=4000, exact=true) }}",
    )
    assert {stratum: count for stratum, (count, _) in equal.items()} == dict.fromkeys(sizes, 1000)
    proportional = stratum_counts(
        project,
        "{{ stratified_sample('source_rows', ['stratum'], ['id'], 7, fraction=0.01, "
        "min_per_stratum=100, exact=true, mode='portable') }}",
    )
    expected = {stratum: max(round(0.01 * size), 100) for stratum, size in sizes.items()}
    assert {stratum: count for stratum, (count, _) in proportional.items()} == expected


def weighted_total_check(project: DbtProject, macro_call: str) -> tuple[float, float, float]:
    """(population total, Horvitz-Thompson estimate, its standard error) of `amount`."""
    sql = project.compile(
        "with source_rows as (select * from __SOURCE__) "
        "select sum(amount * sample_weight), "
        "sqrt(sum((1 - inclusion_probability) * power(amount * sample_weight, 2))) "
        f"from ({macro_call}) as sampled"
    )
    estimate, standard_error = run_rows(project, sql)[0]
    total = run_rows(project, "select sum(amount) from population")[0][0]
    return total, estimate, standard_error


@pytest.mark.parametrize(
    "macro_call",
    [
        "stratified_sample('source_rows', 'stratum', 'id', 11, fraction=0.02, min_per_stratum=400)",
        "stratified_sample('source_rows', 'stratum', 'id', 11, allocation={'big': 0.01, "
        "'medium': 0.02, 'small': 0.05, 'new': 0.5})",
        "cluster_sample('source_rows', 'customer_id', 0.05, 11)",
        "negative_downsample('source_rows', 'is_positive', 0.05, 'id', 11)",
    ],
)
def test_weighted_totals_estimate_population_totals(project: DbtProject, macro_call: str) -> None:
    total, estimate, standard_error = weighted_total_check(project, "{{ " + macro_call + " }}")
    assert standard_error > 0
    assert abs(estimate - total) <= 4 * standard_error, (estimate, total, standard_error)
    assert abs(estimate - total) / total < 0.05


@pytest.mark.parametrize("exact", ["false", "true"])
def test_stratum_below_minimum_is_taken_whole(project: DbtProject, exact: str) -> None:
    """A stratum smaller than min_per_stratum is all in the sample, at probability and weight 1."""
    counts = stratum_counts(
        project,
        "{{ stratified_sample('source_rows', 'stratum', 'id', 1, fraction=0.1, "
        f"min_per_stratum=5000, exact={exact}, mode='portable') }}}}",
    )
    assert counts["new"] == (3000, 1.0)
    assert counts["small"][1] == pytest.approx(0.1)


POPULATION = (
    "adapter.get_relation(database=target.database, schema='main', identifier='population')"
)

INVALID_CALLS = [
    (
        "hash_sample('t', 'id', 1.5, 42)",
        "hash_sample: argument `fraction` must be a number in (0, 1], got 1.5",
    ),
    ("hash_sample('t', 'id', 0, 42)", "argument `fraction` must be a number in (0, 1], got 0"),
    (
        "hash_sample('t', 'id', 0.1, 42, mode='fast')",
        "argument `mode` must be one of native, portable",
    ),
    ("hash_sample('t', 'id', 0.1, -1)", "argument `seed` must be a whole number >= 0, got -1"),
    (
        "random_sample('t', fraction=0.1, method='cluster')",
        "random_sample: argument `method` must be one of bernoulli, system, reservoir, got cluster",
    ),
    ("random_sample('t', fraction=0.1, percent=10)", "give exactly one of `fraction`"),
    ("random_sample('t', percent=150)", "argument `percent` must be a number in (0, 100], got 150"),
    (
        f"stratified_sample({POPULATION}, ['stratum', 'region'], 'id', 42, fraction=0.1)",
        "stratified_sample: argument `strata` names column 'region', which is not in",
    ),
    (
        "stratified_sample('t', 'stratum', 'id', 42, fraction=0.1, allocation='optimal')",
        "argument `allocation` must be one of proportional, equal, got optimal",
    ),
    (
        "stratified_sample('t', 'stratum', 'id', 42, allocation={'a': 2})",
        "argument `allocation['a']` must be a number in (0, 1], got 2",
    ),
    (
        "stratified_sample('t', 'stratum', 'id', 42, fraction=0.1, sample_size=10)",
        "give exactly one of `fraction` (0, 1] or `sample_size`",
    ),
    (
        "stratified_sample('t', 'stratum', 'id', 42, fraction=0.1, min_per_stratum=-3)",
        "argument `min_per_stratum` must be a whole number >= 0, got -3",
    ),
    (
        f"cluster_sample({POPULATION}, 'client_id', 0.1, 42)",
        "cluster_sample: argument `cluster_key` names column 'client_id', which is not in",
    ),
    (
        "cluster_sample('t', [], 0.1, 42)",
        "argument `cluster_key` must be a column name or a non-empty",
    ),
    (
        "time_window('t', 'at', 0)",
        "time_window: argument `days` must be a whole number >= 1, got 0",
    ),
    (
        "time_window('t', 'at', 7, end_date='2025/12/31')",
        "argument `end_date` must be a 'YYYY-MM-DD' string or none",
    ),
    (
        "negative_downsample('t', 'is_clicked', 1.2, 'id', 42)",
        "negative_downsample: argument `negative_rate` must be a number in (0, 1], got 1.2",
    ),
]


@pytest.mark.parametrize(("macro_call", "message"), INVALID_CALLS)
def test_invalid_arguments_fail_with_clear_message(
    project: DbtProject, macro_call: str, message: str
) -> None:
    log = project.compile_error("{{ " + macro_call + " }}")
    assert message in log


def test_singular_macro_tests_pass(project: DbtProject) -> None:
    """The tests/sampling singular tests (inline rows, expected vs actual) pass on DuckDB."""
    result = project.invoke("test", "--select", "test_type:singular")
    assert result.success, "\n".join(project.messages)
    assert len(result.result.results) >= 8


def test_sample_is_representative_fails_a_drifted_sample(project: DbtProject) -> None:
    result = project.invoke("build", "--select", "representativeness_population+")
    statuses = {item.node.name: str(item.status) for item in result.result.results}
    fair = [name for name in statuses if name.startswith("sample_is_representative_fair")]
    biased = [name for name in statuses if name.startswith("sample_is_representative_biased")]
    assert len(fair) == 1 and len(biased) == 1, statuses
    assert statuses[fair[0]] == "pass", "\n".join(project.messages)
    assert statuses[biased[0]] == "fail"
    # The failing rows name the drifted feature: x lost its top 40 percent.
    assert any("Got 1 result" in message for message in project.messages)


def test_sample_is_representative_sees_a_label_shift(project: DbtProject) -> None:
    """Dropping 40% of churned customers' rows fails on the rate; honest designed samples pass.

    The shifted sample's PSI on the label stays far below the old fixed 0.1 rule (the issue's miss);
    the design interval of the cluster sample's rate catches it. A negative-downsampled sample has a
    kept-row click rate about 10x the population's by design: its weighted rate passes.
    """
    result = project.invoke(
        "build", "--select", "churn_population+", "click_population+", "--threads", "1"
    )
    statuses = {item.node.name: str(item.status) for item in result.result.results}
    log = "\n".join(project.messages)

    def status(model: str) -> str:
        (name,) = [
            name for name in statuses if name.startswith(f"sample_is_representative_{model}")
        ]
        return statuses[name]

    assert status("honest_cluster_sample") == "pass", log
    assert status("negative_downsampled_sample") == "pass", log
    assert status("label_shifted_sample") == "fail", log
    with duckdb.connect(str(project.dbt_database)) as con:  # dbt holds it open, read-write
        population_rate, honest_rows = con.sql(
            "select avg(is_churned::int), (select count(*) from honest_cluster_sample) "
            "from churn_population"
        ).fetchall()[0]
        shifted_rate, shifted_rows = con.sql(
            "select sum(is_churned::int * sample_weight) / sum(sample_weight), count(*) "
            "from label_shifted_sample"
        ).fetchall()[0]
        kept_click_rate, weighted_click_rate, click_rate = con.sql(
            "select avg(is_clicked::int), "
            "sum(is_clicked::int * sample_weight) / sum(sample_weight), "
            "(select avg(is_clicked::int) from click_population) from negative_downsampled_sample"
        ).fetchall()[0]
    # The same size, a large label shift, and a PSI the old 0.1 rule passed.
    assert abs(honest_rows - shifted_rows) / shifted_rows < 0.05, (honest_rows, shifted_rows)
    assert population_rate == pytest.approx(0.164, abs=0.005)
    assert shifted_rate < population_rate - 0.03, (shifted_rate, population_rate)
    psi = sum(
        (a - b) * math.log(a / b)
        for a, b in ((shifted_rate, population_rate), (1 - shifted_rate, 1 - population_rate))
    )
    assert psi < 0.1 / 3, psi
    assert kept_click_rate > 5 * click_rate
    assert weighted_click_rate == pytest.approx(click_rate, rel=0.1)
    # One failing row, for the label; its message names model, column, both rates and the interval.
    match = re.search(
        r"sample_is_representative: model label_shifted_sample, column is_churned: sample rate "
        r"([0-9.]+) \(design-weighted\) outside the interval \[([0-9.]+), ([0-9.]+)\] around the "
        r"population rate ([0-9.]+)",
        log,
    )
    assert match, log
    sample, lower, upper, population = (float(value) for value in match.groups())
    assert sample == pytest.approx(shifted_rate, abs=5e-5)
    assert population == pytest.approx(population_rate, abs=5e-5)
    assert lower < population < upper and not lower <= sample <= upper
    assert "column x:" not in log.split("label_shifted_sample")[-1].split("\n")[0]


def test_critical_values_match_scipy(project: DbtProject) -> None:
    """The compile-time normal, KS and chi-square critical values (Jinja) against scipy."""
    stats = pytest.importorskip("scipy.stats")
    code = project.compile(
        "{{ tojson(warehouse_ml._sampling_critical_values(0.001, 12, 9)) }}"
        " {{ warehouse_ml._sampling_ln(1e-7) }}"
        " {{ warehouse_ml._sampling_normal_upper_quantile(0.3) }}"
    )
    values, ln_value, z_central = code.rsplit(" ", 2)
    critical = json.loads(values)
    per_check = 0.001 / 12
    assert critical["per_check_alpha"] == pytest.approx(per_check, rel=1e-15)
    assert float(ln_value) == pytest.approx(math.log(1e-7), rel=1e-13)
    assert float(z_central) == pytest.approx(stats.norm.isf(0.3), rel=1e-8)
    assert critical["rate_z"] == pytest.approx(stats.norm.isf(per_check / 2), rel=1e-8)
    assert critical["ks_c"] == pytest.approx(math.sqrt(-math.log(per_check / 2) / 2), rel=1e-12)
    for df in (1, 2):
        assert critical["chi_square"][str(df)] == pytest.approx(
            stats.chi2.isf(per_check, df), rel=1e-8
        )
    for df in range(3, 10):
        # Wilson-Hilferty: above the exact quantile (conservative), by < 4% this far in the tail.
        excess = critical["chi_square"][str(df)] / stats.chi2.isf(per_check, df) - 1
        assert 0 < excess < 0.04, (df, excess)


def test_sample_representativeness_is_one_query_whatever_the_feature_count(
    project: DbtProject,
) -> None:
    """All features in one query (long form): 40 features add a value-list row and two case
    branches each, not a set of CTEs per feature. A set per feature made the report's Spark plan
    take minutes to plan and ran a 3g driver out of heap (55 features over 3 training sets)."""

    def compiled(count: int) -> str:
        features = ", ".join(f"'f{i}'" for i in range(count))
        return project.compile(
            "{{ sample_representativeness('sample_rows', 'population_rows', [" + features + "], "
            "weight_column='sample_weight', cluster_column='customer_id', "
            "population_where='is_labelled') }}"
        )

    one, forty = compiled(1), compiled(40)
    assert one.count(" as (") == forty.count(" as (") == 20
    # The population and the sample are each read the same number of times (design, values).
    for relation in ("from population_rows", "from sample_rows"):
        assert one.count(relation) == forty.count(relation) >= 2, relation
    assert forty.count("is_labelled") == one.count("is_labelled")
    assert (len(forty) - len(one)) / 39 < 200


@pytest.mark.spark
def test_singular_macro_tests_pass_on_spark(tmp_path: Path) -> None:
    """The same singular tests on a local Spark session (portable mode: the same rows as DuckDB)."""
    pytest.importorskip("pyspark")
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "profiles.yml").write_text(
        "warehouse_ml:\n  target: spark\n  outputs:\n    spark:\n      type: spark\n"
        "      method: session\n      schema: sampling_tests\n      host: NA\n      threads: 1\n"
        "      server_side_parameters:\n        spark.sql.shuffle.partitions: '2'\n"
        "        spark.ui.enabled: 'false'\n"
        f"        spark.sql.warehouse.dir: {tmp_path / 'warehouse'}\n"
    )
    project_dir = tmp_path / "project"
    project_dir.mkdir()
    (project_dir / "dbt_project.yml").write_text(
        "name: warehouse_ml\nversion: '0.1.0'\nconfig-version: 2\nprofile: warehouse_ml\n"
        "macro-paths: ['macros']\ntest-paths: ['sampling_tests']\nmodel-paths: ['models']\n"
    )
    (project_dir / "models").mkdir()
    (project_dir / "macros").symlink_to(ROOT / "macros")
    (project_dir / "sampling_tests").symlink_to(ROOT / "tests" / "sampling")
    messages: list[str] = []
    runner = dbt_main.dbtRunner(callbacks=[lambda event: messages.append(event.info.msg)])
    cwd = Path.cwd()
    os.chdir(project_dir)
    try:
        result = runner.invoke(
            ["test", "--profiles-dir", str(profiles), "--target-path", str(tmp_path / "target")]
        )
    finally:
        os.chdir(cwd)
    assert result.success, "\n".join(messages)
    assert len(result.result.results) >= 8


@pytest.mark.parametrize(
    ("dispatched_call", "expected_sql", "warning"),
    [
        (
            "default__random_sample('t', '10.000000', 'bernoulli', 42)",
            "from t tablesample (10.000000 percent) repeatable (42)",
            None,
        ),
        (
            "snowflake__random_sample('t', '10.000000', 'system', 42)",
            "from t sample system (10.000000) seed (42)",
            None,
        ),
        (
            "bigquery__random_sample('t', '10.000000', 'system', 42)",
            "from t tablesample system (10.000000 percent)",
            "bigquery TABLESAMPLE has no seed; seed=42 is ignored",
        ),
        (
            "trino__random_sample('t', '10.000000', 'bernoulli', 42)",
            "from t tablesample bernoulli (10.000000)",
            "trino TABLESAMPLE has no seed; seed=42 is ignored",
        ),
    ],
)
def test_random_sample_renders_other_engines(
    project: DbtProject, dispatched_call: str, expected_sql: str, warning: str | None
) -> None:
    """The Spark, Snowflake, BigQuery and Trino forms, rendered here without those adapters."""
    sql = project.compile("{{ warehouse_ml." + dispatched_call + " }}")
    assert expected_sql in " ".join(sql.split())
    log = "\n".join(project.messages)
    if warning is None:
        assert "has no seed" not in log
    else:
        assert warning in log


def test_random_sample_rejects_a_method_the_engine_lacks(project: DbtProject) -> None:
    log = project.compile_error(
        "{{ warehouse_ml.default__random_sample('t', '10.000000', 'system', 42) }}"
    )
    assert "argument `method` must be 'bernoulli' on duckdb" in log
