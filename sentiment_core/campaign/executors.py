"""Where trials run. The campaign hands each trial to an executor and gets its result back.

Only the inline executor exists today (one trial at a time, in this process: on 2 cores one
TensorFlow training uses both). Parallel executors (local processes, Ray tasks on GPU workers)
implement the same `run` and keep Ax in the campaign process, its only writer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..config import ObjectiveConfig
from ..data import PreparedData
from ..trial import EpochCallback, ObjectiveResult, TrialResult, run_objective


class Executor(Protocol):
    def run(self, params: dict[str, Any], data: PreparedData, seed: int, family: str,
            objective: ObjectiveConfig, on_epoch: EpochCallback | None = None,
            on_unit: Callable[[int, str, TrialResult], None] | None = None
            ) -> ObjectiveResult: ...


class InlineExecutor:
    def run(self, params, data, seed, family, objective, on_epoch=None,
            on_unit=None) -> ObjectiveResult:
        return run_objective(params, data, seed, family, objective.folds, objective.replicates,
                             on_epoch, on_unit)
