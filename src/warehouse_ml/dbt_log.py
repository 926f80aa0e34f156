"""The library's log lines on dbt's console, while a dbt Python model runs.

The library logs its stages (rows read, fit time, rows scored) with :mod:`logging`, under the
``warehouse_ml`` logger, and stays free of dbt: without a handler Python drops INFO lines.
Every compiled Python model calls :func:`to_dbt_console` first (the project's
``py_script_comment`` macro), which hands those lines to dbt's event logger as ``Note``
events: dbt prints them on the console with its timestamp and writes them to logs/dbt.log,
on DuckDB and on Spark alike (both run the model inside the dbt process).
"""

from __future__ import annotations

import logging

LOGGER_NAME = "warehouse_ml"


class DbtEventHandler(logging.Handler):
    """Fire each record as a dbt ``Note`` event at the record's level (INFO and above)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from dbt_common.events.base_types import EventLevel
            from dbt_common.events.functions import fire_event
            from dbt_common.events.types import Note

            level = EventLevel.WARN if record.levelno >= logging.WARNING else EventLevel.INFO
            fire_event(Note(msg=self.format(record)), level=level)
        except Exception:  # a log line must never fail a model
            self.handleError(record)


def to_dbt_console() -> None:
    """Send the ``warehouse_ml`` logger's INFO lines to dbt's logger (once per process)."""
    logger = logging.getLogger(LOGGER_NAME)
    if any(isinstance(handler, DbtEventHandler) for handler in logger.handlers):
        return
    handler = DbtEventHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
