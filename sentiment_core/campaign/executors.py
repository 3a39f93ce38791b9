"""Where trials run. The campaign hands each trial to an executor and gets a TrialResult back.

Only the inline executor exists today (one trial at a time, in this process: on 2 cores one
TensorFlow training uses both). Parallel executors (local processes, Ray tasks on GPU workers)
implement the same `run` and keep Ax in the campaign process, its only writer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..data import PreparedData
from ..trial import TrialResult, run_trial


class Executor(Protocol):
    def run(self, params: dict[str, Any], data: PreparedData, seed: int, family: str,
            on_epoch: Callable[[int, int, dict[str, float]], None] | None) -> TrialResult: ...


class InlineExecutor:
    def run(self, params, data, seed, family, on_epoch=None) -> TrialResult:
        return run_trial(params, data, seed, family, on_epoch)
