"""Fault injection for the kill tests (never set outside them).

With SENTIMENT_HPO_FAULT="recorded:2:KILL" this process sends itself SIGKILL the 2nd time it
reaches point "recorded". Points: epoch (an epoch ended, inside fit), recorded (MLflow has a
trial's metrics, figures, model; Ax not told yet), told (Ax told and saved; the run not ended
yet), finished (run ended; parent's best and tables not yet written)."""

from __future__ import annotations

import os
import signal

FAULT_ENV = "SENTIMENT_HPO_FAULT"  # "POINT:N:SIGNAL"
_hits: dict[str, int] = {}


def fault_point(point: str) -> None:
    spec = os.environ.get(FAULT_ENV)
    if not spec or spec.split(":")[0] != point:
        return
    _, count, name = spec.split(":")
    _hits[point] = _hits.get(point, 0) + 1
    if _hits[point] == int(count):
        os.kill(os.getpid(), getattr(signal, f"SIG{name}"))
