"""The inline executor: one trial at a time in the campaign's own process, through the same
worker path as the other executors (`run_remote`), with a channel that hands each event to the
campaign at once. `run` is the training function (tests wrap it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...config import ExecutionConfig
from ...data import PreparedData
from ...trial import ObjectiveResult, run_objective
from .protocol import Event, OnEvent, TrialOutcome, TrialSpec
from .worker import run_remote


class _Direct:
    """Events go straight to the campaign's `on_event`; its answer is the verdict."""

    def __init__(self, on_event: OnEvent):
        self.on_event = on_event

    def report(self, event: Event) -> bool | None:
        return bool(self.on_event(event))

    def verdict(self, index: int, epoch: int) -> bool | None:
        return None


class InlineExecutor:
    capacity = 1
    name = "inline"

    @classmethod
    def from_config(cls, execution: ExecutionConfig) -> "InlineExecutor":
        return cls()

    def __init__(self) -> None:
        self.queue: list[tuple[int, dict[str, Any]]] = []
        self.data: PreparedData | None = None
        self.spec: TrialSpec | None = None

    def run(self, *args: Any, **kwargs: Any) -> ObjectiveResult:
        """The whole training of a trial: `run_objective`'s arguments."""
        return run_objective(*args, **kwargs)

    def start(self, data: PreparedData, spec: TrialSpec, cache_file: Path | None = None) -> None:
        self.data, self.spec = data, spec

    def submit(self, index: int, params: dict[str, Any]) -> None:
        self.queue.append((index, params))

    def poll(self, timeout: float, on_event: OnEvent) -> list[TrialOutcome]:
        if not self.queue:
            return []
        index, params = self.queue.pop(0)
        return [run_remote(index, params, self.data, self.spec, _Direct(on_event),
                           train=self.run, keep_model=True)]

    def cancel_all(self) -> None:
        self.queue.clear()

    def close(self) -> None:
        pass

    def tags(self) -> dict[str, Any]:
        return {}
