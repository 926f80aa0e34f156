"""warehouse_ml.progress: long commands say what they do at least every `every` seconds."""

from __future__ import annotations

import sys

from warehouse_ml import progress

SILENT_THEN_TALK = "import time; print('first', flush=True); time.sleep(2.5); print('second')"


def test_a_silent_command_gets_heartbeats_and_its_exit_status(capsys, tmp_path):
    log = tmp_path / "out.log"
    command = [sys.executable, "-c", SILENT_THEN_TALK + "; raise SystemExit(3)"]
    result = progress.run(command, label="stage", every=1.0, log=log)
    printed = capsys.readouterr().out.splitlines()
    assert result.returncode == 3
    assert printed[0] == "[stage +0s] started"
    assert printed[1] == "first"
    heartbeats = [line for line in printed if "running (last line: first)" in line]
    assert 1 <= len(heartbeats) <= 3  # one per second of silence, not one per poll
    assert printed[-2] == "second"
    assert printed[-1].startswith("[stage +") and printed[-1].endswith("(exit 3)")
    assert log.read_text() == "first\nsecond\n" == result.stdout


def test_dbt_lines_echo_only_problems_and_the_summary_and_count_nodes():
    nodes = progress.DbtNodes()
    assert nodes.status().startswith("starting")
    lines = [
        "\x1b[0m10:00:01  1 of 3 START sql table model marts.a ..... [RUN]",
        "\x1b[0m10:00:02  1 of 3 OK created sql table model marts.a .. [\x1b[32mOK\x1b[0m in 0.5s]",
        "\x1b[0m10:00:03  2 of 3 FAIL 1 unique_a_id ..... [\x1b[31mFAIL 1\x1b[0m in 0.1s]",
        "\x1b[0m10:00:04  3 of 3 PASS not_null_a_id ..... [\x1b[32mPASS\x1b[0m in 0.1s]",
        "\x1b[0m10:00:05  Done. PASS=1 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=3",
    ]
    assert [nodes(line) for line in lines] == [False, False, True, False, True]
    assert nodes.status() == "3 of 3 nodes done (last: not_null_a_id)"


def test_the_command_line_runs_what_follows_the_double_dash(capsys):
    code = progress.main(["--label", "cli", "--", sys.executable, "-c", "print('hi')"])
    assert code == 0
    assert "hi" in capsys.readouterr().out
