"""The scale-out paths, run for real: a Spark standalone cluster and a Thrift server on 127.0.0.1.

``make test-spark-cluster`` runs :func:`main`, which

1. starts a standalone master and one worker from pyspark's own jars (``java -cp <pyspark>/jars/*
   org.apache.spark.deploy.master.Master`` / ``...worker.Worker``; no ``$SPARK_HOME/sbin``), every
   port on 127.0.0.1;
2. builds the whole project, Python models included, with the launcher
   (:mod:`warehouse_ml.spark.dbt_session`) as the driver against ``spark://127.0.0.1:<port>``
   (profile target ``spark_cluster``: Derby metastore with the driver, a local warehouse folder the
   executors write to), builds the same raw data on DuckDB and compares every mart and ML table
   (:func:`warehouse_ml.parity.compare_marts`);
3. starts a Spark Thrift Server (``HiveThriftServer2``, pyspark's jars, the same cluster) and
   builds, through dbt-spark's ``thrift`` method (target ``spark_thrift``), every node that can
   run over Thrift: ``--exclude path:models/**/*.py+`` (a Python model and everything
   downstream of it: Thrift carries SQL only, dbt-spark has no Python submission for it);
4. reads the Spark event logs: per dbt node the Spark jobs, stages and tasks, the executors they ran
   on, the bytes returned to the driver and the seconds the node spent outside any Spark job (work
   on the driver: planning, the metastore, pandas/scikit-learn in a Python model), and writes
   ``spark_cluster.json`` / ``spark_cluster.md``;
5. stops every process it started, by PID, in a ``finally`` (also on failure, Ctrl-C or SIGTERM),
   and then any process left below its own PID (executors, Python workers).

Command line::

    python -m warehouse_ml.spark.cluster --raw DIR --work DIR [--results benchmarks/results]

Exit 0 when both builds and parity pass, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

PROJECT_DIR = Path(__file__).resolve().parents[3]
"""Default dbt project: the repository root of an editable install."""

HOST = "127.0.0.1"
CLUSTER_TARGET = "spark_cluster"
THRIFT_TARGET = "spark_thrift"
THRIFT_SERVER_MEMORY = "2g"
"""The Thrift server's own heap by default (``--thrift-memory``): see :func:`thrift_server`."""
THRIFT_SELECTOR = ("--exclude", "path:models/**/*.py+")
"""What cannot run over Thrift: Python models and every node downstream of one (their tests too).
``config.language:python`` matches nothing in dbt 1.11 (``language`` is a node property, not a
config), so excluding it would exclude nothing."""
DAEMON_MEMORY = "384m"
"""Heap of the master and the worker (they only schedule)."""
DBT_NODE_TYPES = frozenset({"model", "seed", "snapshot", "test", "unit_test", "operation"})
"""The first part of a dbt node id (``model.warehouse_ml.stg_x``)."""
NO_NODE = "(no dbt node)"
"""Jobs outside any node's job group (dbt's on-run-start hooks, catalog queries)."""


# --------------------------------------------------------------------------- processes


def spark_home() -> Path:
    """pyspark's package folder: its ``jars/`` hold Spark, Hive, Derby and the Thrift server."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def scala_version() -> str:
    """The Scala version of pyspark's Spark jars (``2.13`` from ``spark-core_2.13-4.x.jar``)."""
    jars = sorted((spark_home() / "jars").glob("spark-core_*.jar"))
    if not jars:
        raise FileNotFoundError(
            f"no spark-core jar in {spark_home() / 'jars'}: reinstall pyspark (make setup-spark)"
        )
    return jars[0].name.removeprefix("spark-core_").split("-", 1)[0]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def java_command(
    main_class: str, args: Sequence[str], memory: str, java_options: Sequence[str] = ()
) -> list[str]:
    """``java -Xmx<memory> -cp <pyspark>/jars/* <main_class> <args>``."""
    java = Path(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else "java"
    classpath = str(spark_home() / "jars" / "*")
    return [str(java), f"-Xmx{memory}", *java_options, "-cp", classpath, main_class, *args]


def spark_environment(work: Path) -> dict[str, str]:
    """The environment of every Spark process here (daemons, driver; executors inherit the
    worker's).

    ``SPARK_LOCAL_IP`` binds the web UIs and RPC to 127.0.0.1; ``PYSPARK_PYTHON`` makes every Python
    worker this venv's interpreter (it imports ``warehouse_ml``).
    """
    return {
        **os.environ,
        "SPARK_HOME": str(spark_home()),
        # without it the worker's executor launcher looks for Spark build folders
        "SPARK_SCALA_VERSION": scala_version(),
        "SPARK_LOCAL_IP": HOST,
        "SPARK_LOCAL_DIRS": str(work / "local"),
        "PYSPARK_PYTHON": sys.executable,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }


@dataclass
class Daemon:
    """A process this module started: its name, ``Popen`` and log file."""

    name: str
    process: subprocess.Popen
    log_path: Path
    log: IO[str]

    @property
    def pid(self) -> int:
        return self.process.pid

    def check_alive(self) -> None:
        """Raise with the end of the log when the process has exited."""
        if self.process.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(
                f"Spark {self.name} (pid {self.pid}) exited with {self.process.returncode}; "
                f"see {self.log_path}:\n{tail}"
            )


def start_daemon(
    name: str, command: Sequence[str], work: Path, environment: Mapping[str, str]
) -> Daemon:
    """Start ``command`` with its output in ``<work>/logs/<name>.log``."""
    log_path = work / "logs" / f"{name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    process = subprocess.Popen(
        list(command),
        cwd=work,
        env=dict(environment),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    print(f"started {name}: pid {process.pid}, log {log_path}", flush=True)
    return Daemon(name, process, log_path, log)


def wait_until(ready: Any, what: str, daemons: Iterable[Daemon], timeout: float = 300.0) -> None:
    """Poll ``ready()`` every second until true; fail when a daemon exits or after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        for daemon in daemons:
            daemon.check_alive()
        try:
            if ready():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout:.0f} s")
        time.sleep(1.0)


def master_state(ui_port: int) -> dict[str, Any]:
    """The standalone master's JSON status page (``/json/``)."""
    with urllib.request.urlopen(f"http://{HOST}:{ui_port}/json/", timeout=5) as response:
        return json.load(response)


def port_open(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        return probe.connect_ex((HOST, port)) == 0


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        tree[parent].append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    """PIDs of every living process below ``pid`` (from /proc; empty where /proc is missing)."""
    if not Path("/proc").is_dir():
        return []
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not running
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def stop_pids(pids: Iterable[int], grace: float = 30.0) -> list[int]:
    """SIGTERM each PID, wait up to ``grace`` s, SIGKILL the survivors; return the PIDs killed."""
    pids = [pid for pid in pids if pid != os.getpid()]
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.5)
    killed = []
    for pid in pids:
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:
                pass
    return killed


def stop_daemon(daemon: Daemon) -> None:
    """Stop ``daemon`` by PID (SIGTERM, then SIGKILL), then whatever it had started (executors)."""
    below = descendants(daemon.pid)
    if daemon.process.poll() is None:
        daemon.process.terminate()
        try:
            daemon.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.process.kill()
            daemon.process.wait(timeout=30)
    leftover = [pid for pid in below if _alive(pid)]
    if leftover:
        stop_pids(leftover, grace=10)
    daemon.log.close()
    print(f"stopped {daemon.name} (pid {daemon.pid}, exit {daemon.process.returncode})", flush=True)


@dataclass
class Cluster:
    """A running standalone master and worker."""

    master_url: str
    master_ui_port: int
    daemons: list[Daemon] = field(default_factory=list)


@contextmanager
def standalone_cluster(work: Path, cores: int, memory: str) -> Iterator[Cluster]:
    """Start a master and one worker (``cores`` cores, ``memory`` for executors) on 127.0.0.1;
    stop both by PID on exit, also on failure."""
    environment = spark_environment(work)
    port, ui_port, worker_ui_port = free_port(), free_port(), free_port()
    cluster = Cluster(f"spark://{HOST}:{port}", ui_port)
    (work / "worker").mkdir(parents=True, exist_ok=True)
    try:
        master_args = ["--host", HOST, "--port", str(port), "--webui-port", str(ui_port)]
        cluster.daemons.append(
            start_daemon(
                "master",
                java_command("org.apache.spark.deploy.master.Master", master_args, DAEMON_MEMORY),
                work,
                environment,
            )
        )
        wait_until(
            lambda: master_state(ui_port).get("status") == "ALIVE",
            "the Spark master",
            cluster.daemons,
        )
        worker_args = [
            "--host",
            HOST,
            "--cores",
            str(cores),
            "--memory",
            memory,
            "--webui-port",
            str(worker_ui_port),
            "--work-dir",
            str(work / "worker"),
            cluster.master_url,
        ]
        cluster.daemons.append(
            start_daemon(
                "worker",
                java_command("org.apache.spark.deploy.worker.Worker", worker_args, DAEMON_MEMORY),
                work,
                environment,
            )
        )
        wait_until(
            lambda: (
                sum(w.get("state") == "ALIVE" for w in master_state(ui_port).get("workers", []))
                == 1
            ),
            "the Spark worker",
            cluster.daemons,
        )
        print(f"cluster up: {cluster.master_url} (master UI http://{HOST}:{ui_port})", flush=True)
        yield cluster
    finally:
        for daemon in reversed(cluster.daemons):
            stop_daemon(daemon)


THRIFT_CONF = {
    "spark.app.name": "warehouse_ml_thrift",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.subquery.maxThreadThreshold": "128",
    "spark.sql.session.timeZone": "UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.hadoop.javax.jdo.option.ConnectionURL": (
        "jdbc:derby:;databaseName=metastore_db;create=true"
    ),
    "spark.ui.enabled": "false",
    "spark.eventLog.enabled": "true",
    "spark.eventLog.compress": "false",
    "spark.sql.adaptive.coalescePartitions.enabled": "false",
}
"""The Thrift server's Spark settings: the ``spark`` profile target's that matter over SQL."""


@contextmanager
def thrift_server(
    work: Path, cluster: Cluster, cores: int, memory: str, server_memory: str
) -> Iterator[int]:
    """Start ``HiveThriftServer2`` (pyspark's jars) on 127.0.0.1 with ``cluster``'s executors, its
    warehouse and Derby metastore under ``<work>/spark``; yield its port; stop it by PID on exit.

    ``memory`` is each executor's, ``server_memory`` the server's own heap: the server is the
    driver of every query its clients send (it plans them and keeps their events), so it needs
    about what the ``spark`` target's driver does (a 1g server ran out of heap in its event-log
    listener on a 340 KB representativeness query)."""
    spark_dir = work / "spark"
    (spark_dir / "events").mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = {
        **THRIFT_CONF,
        "spark.master": cluster.master_url,
        "spark.driver.host": HOST,
        "spark.driver.bindAddress": HOST,
        "spark.cores.max": str(cores),
        "spark.executor.cores": str(cores),
        "spark.executor.memory": memory,
        "spark.sql.warehouse.dir": str(spark_dir / "warehouse"),
        "spark.eventLog.dir": str(spark_dir / "events"),
    }
    args = ["--class", "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"]
    for key, value in conf.items():
        args += ["--conf", f"{key}={value}"]
    args += [
        "spark-internal",
        "--hiveconf",
        f"hive.server2.thrift.bind.host={HOST}",
        "--hiveconf",
        f"hive.server2.thrift.port={port}",
    ]
    java_options = [f"-Dderby.system.home={spark_dir}", "-Duser.timezone=UTC"]
    command = java_command("org.apache.spark.deploy.SparkSubmit", args, server_memory, java_options)
    daemon = start_daemon("thrift-server", command, work, spark_environment(work))
    try:
        wait_until(
            lambda: port_open(port),
            "the Spark Thrift Server",
            [daemon, *cluster.daemons],
            timeout=600,
        )
        print(f"thrift server up: {HOST}:{port}", flush=True)
        yield port
    finally:
        stop_daemon(daemon)


# --------------------------------------------------------------------------- dbt


def run_dbt(
    target: str,
    raw: Path,
    work: Path,
    threads: int,
    extra_args: Sequence[str] = (),
    environment: Mapping[str, str] | None = None,
) -> float:
    """``dbt build --target <target>`` through the launcher into ``work``, dbt's node lines streamed
    to the console and to ``<work>/dbt-<target>.out``; return seconds.

    Raises
    ------
    RuntimeError
        When dbt fails (the message names the output file).
    """
    env = {
        **(environment or os.environ),
        "WAREHOUSE_ML_THREADS": str(threads),
        "WAREHOUSE_ML_SPARK_DIR": str(work / "spark"),
    }
    command = [
        sys.executable,
        "-m",
        "warehouse_ml.spark.dbt_session",
        "build",
        "--target",
        target,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR / "profiles"),
        "--target-path",
        str(work / f"target-{target}"),
        "--log-path",
        str(work / f"logs-{target}"),
        "--vars",
        json.dumps({"raw_data_path": str(raw)}),
        *extra_args,
    ]
    out_path = work / f"dbt-{target}.out"
    started = time.perf_counter()
    with (
        out_path.open("w") as out,
        subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as process,
    ):
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            print(f"[{target} {time.perf_counter() - started:6.0f}s] {line}", end="", flush=True)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(
            f"dbt build --target {target} failed (exit {process.returncode}); see {out_path}"
        )
    return seconds


def node_counts(run_results_path: Path) -> dict[str, dict[str, int]]:
    """``{resource type: {status: count}}`` from a ``run_results.json``."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for result in json.loads(run_results_path.read_text())["results"]:
        counts[result["unique_id"].split(".", 1)[0]][result["status"]] += 1
    return {kind: dict(statuses) for kind, statuses in sorted(counts.items())}


# --------------------------------------------------------------------------- event logs


@dataclass
class NodeSpark:
    """The Spark work of one dbt node, from the event log."""

    node: str
    jobs: int = 0
    stages: int = 0
    tasks: int = 0
    executors: set[str] = field(default_factory=set)
    executor_run_seconds: float = 0.0
    result_bytes_to_driver: int = 0
    rows_into_single_task_stages: int = 0
    """Shuffle rows read by stages that ran as ONE task: work that does not spread (a window with
    no partition, a global sort); a global aggregate's final merge reads a few rows only."""
    job_intervals: list[tuple[int, int]] = field(default_factory=list)

    def job_seconds(self) -> float:
        """Seconds with at least one of the node's Spark jobs running (overlaps counted once)."""
        total, end = 0, None
        for start, finish in sorted(self.job_intervals):
            if end is None or start > end:
                total += finish - start
                end = finish
            elif finish > end:
                total += finish - end
                end = finish
        return total / 1000.0


def _node_of(properties: Mapping[str, str]) -> str:
    group = properties.get("spark.jobGroup.id") or ""
    if group.split(".", 1)[0] in DBT_NODE_TYPES:
        return group
    # The Thrift server's job group is its statement id; the statement (the job description)
    # starts with dbt's query comment.
    from warehouse_ml.spark.dbt_session import NODE_ID_PATTERN

    found = NODE_ID_PATTERN.search(properties.get("spark.job.description", "")[:2000])
    return found.group(1) if found else NO_NODE


def read_event_log(lines: Iterable[str]) -> dict[str, NodeSpark]:
    """Per dbt node (job group), the Spark jobs, stages, tasks and executors of one event log."""
    nodes: dict[str, NodeSpark] = {}
    stage_node: dict[int, str] = {}
    stage_tasks: dict[tuple[int, int], int] = defaultdict(int)
    stage_shuffle_rows: dict[tuple[int, int], int] = defaultdict(int)
    job_node: dict[int, tuple[str, int]] = {}
    for line in lines:
        event = json.loads(line)
        kind = event.get("Event")
        if kind == "SparkListenerJobStart":
            node = _node_of(event.get("Properties") or {})
            record = nodes.setdefault(node, NodeSpark(node))
            record.jobs += 1
            job_node[event["Job ID"]] = (node, int(event.get("Submission Time", 0)))
            for stage in event.get("Stage IDs", []):
                stage_node[stage] = node
        elif kind == "SparkListenerJobEnd" and event["Job ID"] in job_node:
            node, started = job_node[event["Job ID"]]
            nodes[node].job_intervals.append((started, int(event.get("Completion Time", started))))
        elif kind == "SparkListenerTaskEnd":
            node = stage_node.get(event["Stage ID"], NO_NODE)
            record = nodes.setdefault(node, NodeSpark(node))
            stage_key = (event["Stage ID"], event.get("Stage Attempt ID", 0))
            record.tasks += 1
            stage_tasks[stage_key] += 1
            info, metrics = event.get("Task Info") or {}, event.get("Task Metrics") or {}
            record.executors.add(str(info.get("Executor ID", "?")))
            record.executor_run_seconds += metrics.get("Executor Run Time", 0) / 1000.0
            record.result_bytes_to_driver += int(metrics.get("Result Size", 0))
            shuffle = metrics.get("Shuffle Read Metrics") or {}
            stage_shuffle_rows[stage_key] += int(shuffle.get("Total Records Read", 0))
    for stage_key, tasks in stage_tasks.items():
        node = stage_node.get(stage_key[0], NO_NODE)
        nodes[node].stages += 1
        if tasks == 1:
            nodes[node].rows_into_single_task_stages += stage_shuffle_rows[stage_key]
    return nodes


def read_event_logs(folder: Path) -> dict[str, NodeSpark]:
    """:func:`read_event_log` over every application log in ``folder`` (merged by node)."""
    merged: dict[str, NodeSpark] = {}
    # Spark 4 writes rolling logs: <folder>/eventlog_v2_<app>/events_<n>_<app> (+ appstatus).
    logs = [
        p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "appstatus"))
    ]
    for path in sorted(logs, key=_event_log_order):
        with path.open() as lines:
            for node, record in read_event_log(lines).items():
                into = merged.setdefault(node, NodeSpark(node))
                into.jobs += record.jobs
                into.stages += record.stages
                into.tasks += record.tasks
                into.executors |= record.executors
                into.executor_run_seconds += record.executor_run_seconds
                into.result_bytes_to_driver += record.result_bytes_to_driver
                into.rows_into_single_task_stages += record.rows_into_single_task_stages
                into.job_intervals += record.job_intervals
    return merged


def _event_log_order(path: Path) -> tuple[str, int, str]:
    parts = path.name.split("_")
    index = int(parts[1]) if len(parts) > 2 and parts[0] == "events" and parts[1].isdigit() else 0
    return (str(path.parent), index, path.name)


def node_table(
    run_results_path: Path, manifest_path: Path, spark: Mapping[str, NodeSpark]
) -> list[dict[str, Any]]:
    """One row per dbt node of a build: status, seconds, language and its Spark work."""
    manifest = json.loads(manifest_path.read_text())
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    rows = []
    for result in json.loads(run_results_path.read_text())["results"]:
        unique_id = result["unique_id"]
        record = spark.get(unique_id, NodeSpark(unique_id))
        seconds = float(result.get("execution_time") or 0.0)
        rows.append(
            {
                "node": unique_id,
                "language": (nodes.get(unique_id) or {}).get("language", "sql"),
                "status": result["status"],
                "seconds": round(seconds, 2),
                "spark_jobs": record.jobs,
                "spark_stages": record.stages,
                "spark_tasks": record.tasks,
                "executors": sorted(record.executors),
                "executor_run_seconds": round(record.executor_run_seconds, 2),
                "spark_job_seconds": round(record.job_seconds(), 2),
                "driver_only_seconds": round(max(seconds - record.job_seconds(), 0.0), 2),
                "result_bytes_to_driver": record.result_bytes_to_driver,
                "rows_into_single_task_stages": record.rows_into_single_task_stages,
            }
        )
    return rows


# --------------------------------------------------------------------------- report


def write_results(report: dict[str, Any], results_dir: Path) -> None:
    """``spark_cluster.json`` (everything) and ``spark_cluster.md`` (summary and top nodes)."""
    report["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "spark_cluster.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "# Spark standalone cluster and Thrift server (make test-spark-cluster)",
        "",
        f"Raw data: {report['raw_description']}. Cluster: 1 master + 1 worker on 127.0.0.1, "
        f"{report['cores']} executor cores, {report['executor_memory']} executor memory; "
        f"load average at start {report['load_average_start']}, "
        f"at end {report['load_average_end']}.",
        "",
        "| build | seconds | nodes | Spark tasks |",
        "|---|---|---|---|",
    ]
    for name, build in report["builds"].items():
        counts = ", ".join(f"{kind} {sum(s.values())}" for kind, s in build["node_counts"].items())
        lines.append(f"| {name} | {build['seconds']} | {counts} | {build['spark_tasks']} |")
    parity = report.get("parity", {})
    verdict = (
        "all equal" if parity.get("ok") else "DIFFERENT: " + ", ".join(parity.get("different", []))
    )
    lines += ["", f"Parity with DuckDB: {parity.get('tables', 0)} tables compared, {verdict}.", ""]
    for name, build in report["builds"].items():
        rows = build["nodes"]
        lines += [
            f"## {name}: the nodes with the most driver-only time",
            "",
            "Driver-only seconds: the node's time with none of its Spark jobs running (planning, "
            "the metastore, pandas/scikit-learn in a Python model). Rows into single-task stages: "
            "shuffle rows read by a stage that ran as one task (does not spread over executors).",
            "",
            "| node | language | seconds | Spark tasks | executors | driver-only s "
            "| bytes to driver | rows into 1-task stages |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in sorted(rows, key=lambda r: -r["driver_only_seconds"])[:15]:
            lines.append(
                f"| {row['node']} | {row['language']} | {row['seconds']} | {row['spark_tasks']} | "
                f"{','.join(row['executors']) or '-'} | {row['driver_only_seconds']} | "
                f"{row['result_bytes_to_driver']} | {row['rows_into_single_task_stages']} |"
            )
        lines += [
            "",
            f"## {name}: the nodes whose rows do not spread (1-task stages)",
            "",
            "| node | Spark tasks | rows into 1-task stages |",
            "|---|---|---|",
        ]
        for row in sorted(rows, key=lambda r: -r["rows_into_single_task_stages"])[:10]:
            if row["rows_into_single_task_stages"]:
                single = row["rows_into_single_task_stages"]
                lines.append(f"| {row['node']} | {row['spark_tasks']} | {single} |")
        lines.append("")
    lines += ["Every node's figures: spark_cluster.json.", ""]
    (results_dir / "spark_cluster.md").write_text("\n".join(lines))


def _build_report(name: str, target_dir: Path, events: Path, seconds: float) -> dict[str, Any]:
    spark = read_event_logs(events)
    rows = node_table(target_dir / "run_results.json", target_dir / "manifest.json", spark)
    return {
        "seconds": round(seconds, 1),
        "node_counts": node_counts(target_dir / "run_results.json"),
        "spark_tasks": sum(r.tasks for r in spark.values()),
        "spark_tasks_outside_nodes": spark[NO_NODE].tasks if NO_NODE in spark else 0,
        "nodes": rows,
    }


def run(
    raw: Path,
    work: Path,
    results_dir: Path,
    threads: int,
    cores: int,
    memory: str,
    thrift: bool = True,
    thrift_memory: str = THRIFT_SERVER_MEMORY,
) -> dict[str, Any]:
    """Start the cluster, build on it and on DuckDB, compare, build over Thrift; the report."""
    from warehouse_ml import parity

    work.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "raw_data_path": str(raw),
        "raw_description": _raw_description(raw),
        "cores": cores,
        "executor_memory": memory,
        "thrift_server_memory": thrift_memory if thrift else None,
        "threads": threads,
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "builds": {},
    }
    duckdb_seconds = parity.build("duckdb", raw, work, threads)
    report["builds_duckdb_seconds"] = round(duckdb_seconds, 1)
    environment = spark_environment(work)
    with standalone_cluster(work, cores, memory) as cluster:
        cluster_env = {
            **environment,
            "WAREHOUSE_ML_SPARK_MASTER": cluster.master_url,
            "WAREHOUSE_ML_SPARK_CORES": str(cores),
            "WAREHOUSE_ML_SPARK_EXECUTOR_MEMORY": memory,
            "WAREHOUSE_ML_SPARK_COALESCE_PARTITIONS": "false",
        }
        seconds = run_dbt(CLUSTER_TARGET, raw, work, threads, environment=cluster_env)
        report["builds"][CLUSTER_TARGET] = _build_report(
            CLUSTER_TARGET, work / f"target-{CLUSTER_TARGET}", work / "spark" / "events", seconds
        )
        results = parity.compare_marts(work)
        report["parity"] = {
            "ok": all(r.ok for r in results),
            "tables": len(results),
            "different": [r.name for r in results if not r.ok],
            "differences": {r.name: r.differences for r in results if not r.ok},
        }
        print(
            f"parity {'passed' if report['parity']['ok'] else 'FAILED'}: {len(results)} tables",
            flush=True,
        )
        write_results(report, results_dir)  # written again below with the Thrift build
        if thrift:
            thrift_work = work / "thrift"
            thrift_work.mkdir(parents=True, exist_ok=True)
            with thrift_server(thrift_work, cluster, cores, memory, thrift_memory) as port:
                thrift_env = {
                    **environment,
                    "WAREHOUSE_ML_SPARK_HOST": HOST,
                    "WAREHOUSE_ML_SPARK_PORT": str(port),
                }
                seconds = run_dbt(
                    THRIFT_TARGET,
                    raw,
                    thrift_work,
                    threads,
                    THRIFT_SELECTOR,
                    environment=thrift_env,
                )
            report["builds"][THRIFT_TARGET] = {
                "selector": " ".join(THRIFT_SELECTOR),
                **_build_report(
                    THRIFT_TARGET,
                    thrift_work / f"target-{THRIFT_TARGET}",
                    thrift_work / "spark" / "events",
                    seconds,
                ),
            }
    write_results(report, results_dir)
    return report


def _raw_description(raw: Path) -> str:
    manifest = raw / "_manifest.json"
    if manifest.is_file():
        meta = json.loads(manifest.read_text())
        return f"scale {meta.get('scale')}, seed {meta.get('seed')}"
    return str(raw)


def _raise_system_exit(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m warehouse_ml.spark.cluster",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--raw", type=Path, required=True, help="raw data folder (raw_data_path)")
    parser.add_argument(
        "--work", type=Path, required=True, help="scratch folder (builds, logs, metastores)"
    )
    parser.add_argument("--results", type=Path, default=PROJECT_DIR / "benchmarks" / "results")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--cores",
        type=int,
        default=2,
        help="the worker's cores (all given to the driver's executor)",
    )
    parser.add_argument("--executor-memory", default="1g")
    parser.add_argument("--no-thrift", action="store_true", help="skip the Thrift server build")
    parser.add_argument(
        "--thrift-memory",
        default=THRIFT_SERVER_MEMORY,
        help="the Thrift server's own heap (it drives every query)",
    )
    options = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_system_exit)
    status = 1
    try:
        report = run(
            options.raw.resolve(),
            options.work.resolve(),
            options.results.resolve(),
            options.threads,
            options.cores,
            options.executor_memory,
            thrift=not options.no_thrift,
            thrift_memory=options.thrift_memory,
        )
        for name, build in report["builds"].items():
            counts, tasks = build["node_counts"], build["spark_tasks"]
            print(f"{name}: {build['seconds']} s, nodes {counts}, Spark tasks {tasks}")
        if not report["parity"]["ok"]:
            print(json.dumps(report["parity"]["differences"], indent=2))
        status = 0 if report["parity"]["ok"] else 1
    finally:
        leftover = [pid for pid in descendants(os.getpid()) if _alive(pid)]
        if leftover:
            print(f"stopping leftover processes {leftover}", flush=True)
            stop_pids(leftover, grace=10)
    return status


if __name__ == "__main__":
    sys.exit(main())
