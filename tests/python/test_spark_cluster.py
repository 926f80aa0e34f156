"""The standalone-cluster runner's bookkeeping (warehouse_ml.spark.cluster), without Spark.

``make test-spark-cluster`` runs the real cluster; these tests check what it reports from: the
event log read per dbt node, the node table, and stopping processes by PID.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from warehouse_ml.spark import cluster
from warehouse_ml.spark.dbt_session import NODE_ID_PATTERN

MODEL = "model.warehouse_ml.rpt_sample_representativeness"
PY_MODEL = "model.warehouse_ml.ml_churn_model"


def _task(stage: int, executor: str, run_ms: int, result_bytes: int, shuffle_rows: int) -> dict:
    return {
        "Event": "SparkListenerTaskEnd",
        "Stage ID": stage,
        "Stage Attempt ID": 0,
        "Task Info": {"Executor ID": executor, "Host": "127.0.0.1"},
        "Task Metrics": {
            "Executor Run Time": run_ms,
            "Result Size": result_bytes,
            "Shuffle Read Metrics": {"Total Records Read": shuffle_rows},
        },
    }


def _job(job: int, at: int, stages: list[int], properties: dict) -> dict:
    return {
        "Event": "SparkListenerJobStart",
        "Job ID": job,
        "Submission Time": at,
        "Stage IDs": stages,
        "Properties": properties,
    }


THRIFT_SQL = '/* {"app": "dbt", "node_id": "test.warehouse_ml.not_null_x"} */ select 1'


def _events() -> list[str]:
    events = [
        # job 0 of the SQL model: a 2-task stage and a 1-task stage reading 500 shuffled rows
        _job(0, 1_000, [0, 1], {"spark.jobGroup.id": MODEL}),
        _task(0, "0", 300, 10, 0),
        _task(0, "1", 200, 10, 0),
        _task(1, "0", 900, 2_000, 500),
        {"Event": "SparkListenerJobEnd", "Job ID": 0, "Completion Time": 3_000},
        # two overlapping jobs of the Python model: 1-4 s and 2-5 s run 4 s in all
        _job(1, 1_000, [2], {"spark.jobGroup.id": PY_MODEL}),
        _job(2, 2_000, [3], {"spark.jobGroup.id": PY_MODEL}),
        _task(2, "0", 100, 5_000_000, 0),
        _task(2, "0", 100, 0, 0),
        _task(3, "1", 100, 0, 7),
        _task(3, "1", 100, 0, 7),
        {"Event": "SparkListenerJobEnd", "Job ID": 1, "Completion Time": 4_000},
        {"Event": "SparkListenerJobEnd", "Job ID": 2, "Completion Time": 5_000},
        # a Thrift statement: grouped by statement id, its SQL text carries dbt's query comment
        _job(
            3,
            6_000,
            [4],
            {"spark.jobGroup.id": "2f0c5d1e-statement", "spark.job.description": THRIFT_SQL},
        ),
        _task(4, "0", 10, 1, 0),
        # an on-run-start hook: no node
        _job(4, 7_000, [5], {}),
        _task(5, "0", 10, 1, 0),
    ]
    return [json.dumps(event) for event in events]


def test_event_log_is_counted_per_dbt_node():
    nodes = cluster.read_event_log(_events())

    sql = nodes[MODEL]
    assert (sql.jobs, sql.stages, sql.tasks) == (1, 2, 3)
    assert sql.executors == {"0", "1"}
    assert sql.executor_run_seconds == 1.4
    assert sql.result_bytes_to_driver == 2_020
    assert sql.rows_into_single_task_stages == 500  # stage 1 ran as one task; stage 0 spread
    assert sql.job_seconds() == 2.0

    python = nodes[PY_MODEL]
    assert (python.jobs, python.stages, python.tasks) == (2, 2, 4)
    assert python.job_seconds() == 4.0  # overlapping jobs counted once
    assert python.rows_into_single_task_stages == 0  # both its stages ran 2 tasks
    assert nodes["test.warehouse_ml.not_null_x"].tasks == 1
    assert nodes[cluster.NO_NODE].tasks == 1


def test_rolling_event_logs_are_read_in_order(tmp_path):
    folder = tmp_path / "events" / "eventlog_v2_app-1"
    folder.mkdir(parents=True)
    lines = _events()
    (folder / "events_2_app-1").write_text("\n".join(lines[5:]) + "\n")
    (folder / "events_1_app-1").write_text("\n".join(lines[:5]) + "\n")
    (folder / "appstatus_app-1").write_text("")
    (folder / ".events_1_app-1.crc").write_text("not json")

    merged = cluster.read_event_logs(tmp_path / "events")

    assert merged[MODEL].tasks == 3
    assert merged[PY_MODEL].tasks == 4


def test_node_table_joins_run_results_manifest_and_spark(tmp_path):
    (tmp_path / "run_results.json").write_text(json.dumps({"results": [
        {"unique_id": MODEL, "status": "success", "execution_time": 3.5},
        {"unique_id": PY_MODEL, "status": "success", "execution_time": 10.0},
        {"unique_id": "seed.warehouse_ml.s", "status": "success", "execution_time": 1.0},
    ]}))  # fmt: skip
    (tmp_path / "manifest.json").write_text(json.dumps({"nodes": {
        MODEL: {"language": "sql"}, PY_MODEL: {"language": "python"}, "seed.warehouse_ml.s": {},
    }}))  # fmt: skip

    rows = cluster.node_table(
        tmp_path / "run_results.json", tmp_path / "manifest.json", cluster.read_event_log(_events())
    )

    by_node = {row["node"]: row for row in rows}
    assert by_node[PY_MODEL]["language"] == "python"
    assert by_node[PY_MODEL]["driver_only_seconds"] == 6.0  # 10 s, of which 4 s in Spark jobs
    assert by_node[PY_MODEL]["result_bytes_to_driver"] == 5_000_000
    assert by_node[MODEL]["spark_tasks"] == 3
    assert by_node["seed.warehouse_ml.s"]["spark_tasks"] == 0
    assert cluster.node_counts(tmp_path / "run_results.json") == {
        "model": {"success": 2},
        "seed": {"success": 1},
    }


def test_node_id_is_read_from_dbts_query_comment():
    sql = (
        '/* {"app": "dbt", "dbt_version": "1.11", "node_id": "model.warehouse_ml.stg_x"} */\nselect'
    )
    assert NODE_ID_PATTERN.search(sql).group(1) == "model.warehouse_ml.stg_x"


def test_stop_pids_ends_a_process_and_its_children():
    parent = subprocess.Popen(
        [sys.executable, "-c", "import subprocess, sys, time; "
         "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"]
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not cluster.descendants(parent.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        children = cluster.descendants(parent.pid)
        assert len(children) == 1

        cluster.stop_pids([parent.pid, *children], grace=5)
        parent.wait(timeout=5)

        assert not any(cluster._alive(pid) for pid in children)
        assert parent.returncode is not None
    finally:
        if parent.poll() is None:
            parent.kill()
