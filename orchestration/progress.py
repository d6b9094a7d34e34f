"""A Dagster logger that prints one line per step start/finish: progress for `gradtrack run`.

The default console logger is either silent or shows every debug event; an operator running the
yearly pipeline from a terminal wants to see which asset is running and how long each took. Each
finished step also shows its CPU time (this process and the subprocesses it waited for, such as
dbt): steps run one after another in `gradtrack run`, so that is the step's own, and unlike wall
time it holds when other jobs share the machine (`make bench` reads it).
"""

import logging
import resource
import sys
import time

import dagster as dg

_SHOWN = {"STEP_START": "started", "STEP_SUCCESS": "done", "STEP_FAILURE": "FAILED"}


def cpu_seconds() -> float:
    """User + system CPU of this process and of the children it has waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class _ProgressHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.started: dict[str, tuple[float, float]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        kind = getattr(event, "event_type_value", None)
        if kind not in _SHOWN:
            return
        step = getattr(event, "step_key", None) or "?"
        now, cpu = time.perf_counter(), cpu_seconds()
        took = ""
        if kind == "STEP_START":
            self.started[step] = (now, cpu)
        elif step in self.started:
            wall0, cpu0 = self.started[step]
            took = f" in {now - wall0:.1f} s (CPU {cpu - cpu0:.1f} s)"
        stamp = time.strftime("%H:%M:%S")
        print(f"[{stamp}] {step.replace('__', '/')}: {_SHOWN[kind]}{took}", file=sys.__stderr__, flush=True)


@dg.logger(description="One line per step on the terminal (used by `gradtrack run`).")
def progress_logger(_init_context: dg.InitLoggerContext) -> logging.Logger:
    log = logging.Logger("gradtrack.progress", level=logging.DEBUG)
    log.addHandler(_ProgressHandler())
    return log
