"""A Dagster logger that prints one line per step start/finish: progress for `gradtrack run`.

The default console logger is either silent or shows every debug event; an operator running the
yearly pipeline from a terminal wants to see which asset is running and how long each took.
"""

import logging
import sys
import time

import dagster as dg

_SHOWN = {"STEP_START": "started", "STEP_SUCCESS": "done", "STEP_FAILURE": "FAILED"}


class _ProgressHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        kind = getattr(event, "event_type_value", None)
        if kind not in _SHOWN:
            return
        step = getattr(event, "step_key", None) or "?"
        now = time.perf_counter()
        took = ""
        if kind == "STEP_START":
            self.started[step] = now
        elif step in self.started:
            took = f" in {now - self.started[step]:.1f} s"
        stamp = time.strftime("%H:%M:%S")
        print(f"[{stamp}] {step.replace('__', '/')}: {_SHOWN[kind]}{took}", file=sys.__stderr__, flush=True)


@dg.logger(description="One line per step on the terminal (used by `gradtrack run`).")
def progress_logger(_init_context: dg.InitLoggerContext) -> logging.Logger:
    log = logging.Logger("gradtrack.progress", level=logging.DEBUG)
    log.addHandler(_ProgressHandler())
    return log
