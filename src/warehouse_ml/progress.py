"""Run a long command and say what it is doing: a line per stage with elapsed time.

``make test`` runs pytest and the parity builds through :func:`run`; a command that prints
nothing for ``every`` seconds (a dbt build inside a test fixture, a Spark build) gets a
heartbeat line, so the console shows progress at least once a minute::

    python -m warehouse_ml.progress --label pytest -- pytest -m "not slow and not spark"

The command's output is passed through unchanged (or, with ``echo``, only the lines it
selects; every line still goes to ``log``), and its exit status is returned.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

HEARTBEAT_SECONDS = 30.0
"""Default silence after which a heartbeat line is printed (half the once-a-minute promise)."""

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_DBT_RESULT = re.compile(r"\b(\d+) of (\d+) (OK|PASS|ERROR|FAIL|WARN|SKIP|NO-OP)\b")


def elapsed(seconds: float) -> str:
    """``seconds`` as ``1m05s`` (or ``42s``)."""
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"


def say(label: str, message: str, started: float, out: IO[str] | None = None) -> None:
    """Print ``[label +elapsed] message`` and flush."""
    out = out or sys.stdout
    out.write(f"[{label} +{elapsed(time.perf_counter() - started)}] {message}\n")
    out.flush()


class DbtNodes:
    """Counts dbt's node result lines (``12 of 509 OK ...``) for a heartbeat and picks the
    lines worth echoing (errors, failures, warnings and the final summary)."""

    def __init__(self) -> None:
        self.done = 0
        self.total = 0
        self.last = ""

    def __call__(self, line: str) -> bool:
        plain = _ANSI.sub("", line).rstrip()
        match = _DBT_RESULT.search(plain)
        if match:
            self.done += 1
            self.total = int(match.group(2))
            node = plain.split(match.group(0))[-1].split(" [")[0]  # "created ... model x ....."
            self.last = node.rstrip(" .").strip()
            return match.group(3) in ("ERROR", "FAIL", "WARN")
        return plain.split("  ", 1)[-1].startswith(("Done.", "Completed", "Finished running"))

    def status(self) -> str:
        if not self.total:
            return "starting (parsing, on-run-start hooks)"
        return f"{self.done} of {self.total} nodes done (last: {self.last[:80]})"


def run(
    command: Sequence[str],
    *,
    label: str,
    every: float = HEARTBEAT_SECONDS,
    echo: Callable[[str], bool] | None = None,
    status: Callable[[], str] | None = None,
    log: Path | None = None,
    **popen: Any,
) -> subprocess.CompletedProcess[str]:
    """Run ``command``, passing its output through, with a heartbeat while it is silent.

    Parameters
    ----------
    command : sequence of str
    label : str
        Names the stage in the progress lines.
    every : float
        Seconds of silence (nothing echoed) before a heartbeat line.
    echo : callable, optional
        ``line -> bool``: which output lines to print (default: all).
    status : callable, optional
        Text for the heartbeat (default: the last line the command printed).
    log : Path, optional
        Every output line is also written there.
    **popen
        Passed to ``subprocess.Popen`` (``cwd``, ``env``).

    Returns
    -------
    subprocess.CompletedProcess
        ``stdout`` holds the whole output (stderr merged into it).
    """
    started = time.perf_counter()
    say(label, "started", started)
    env = {**(popen.pop("env", None) or os.environ), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        list(command),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        env=env,
        **popen,
    )
    lines: list[str] = []
    state = {"printed": time.perf_counter(), "last": ""}
    handle = log.open("w") if log else None

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if handle:
                handle.write(line)
            if line.strip():
                state["last"] = _ANSI.sub("", line).strip()
            if echo is None or echo(line):
                sys.stdout.write(line)
                sys.stdout.flush()
                state["printed"] = time.perf_counter()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    while True:
        try:
            process.wait(timeout=1.0)
            break
        except subprocess.TimeoutExpired:
            if time.perf_counter() - state["printed"] >= every:
                text = status() if status else f"running (last line: {state['last'][:100]})"
                say(label, text, started)
                state["printed"] = time.perf_counter()
    reader.join()
    if handle:
        handle.close()
    say(
        label,
        f"finished in {elapsed(time.perf_counter() - started)} (exit {process.returncode})",
        started,
    )
    return subprocess.CompletedProcess(list(command), process.returncode, "".join(lines), "")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m warehouse_ml.progress --label NAME -- command ...``."""
    parser = argparse.ArgumentParser(prog="python -m warehouse_ml.progress", description=__doc__)
    parser.add_argument("--label", required=True, help="the stage's name in progress lines")
    parser.add_argument("--every", type=float, default=HEARTBEAT_SECONDS)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command")
    options = parser.parse_args(argv)
    command = options.command[1:] if options.command[:1] == ["--"] else options.command
    if not command:
        parser.error("give the command after --")
    return run(command, label=options.label, every=options.every).returncode


if __name__ == "__main__":
    sys.exit(main())
