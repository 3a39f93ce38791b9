"""What the campaign and its executors say to each other: the executor's interface, what every
trial of a campaign shares (`TrialSpec`), the events a running trial streams (`Event`), and
what comes back (`TrialOutcome`). Plain, picklable data: it crosses process and Ray borders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ...data import PreparedData
from ...trial import ObjectiveResult


@dataclass(frozen=True)
class TrialSpec:
    """What every trial of a campaign shares (shipped once with the executor)."""

    seed: int
    family: str
    folds: int = 1
    replicates: int = 1
    epoch_metrics: bool = False  # score validation each epoch (early stopping across trials)
    await_verdict: bool = False  # wait after each epoch for Ax's stop / go
    verdict_timeout_s: float = 60.0  # then go on training (the campaign process is busy)
    race: bool = False  # wait after each unit for the campaign's racing verdict
    device: str = "auto"


@dataclass
class Event:
    """A message from a running trial to the campaign process."""

    kind: str  # "epoch" or "unit"
    index: int  # Ax trial index
    unit: int  # 1-based unit (fold x replicate) number
    epoch: int = 0
    epochs: int = 0
    logs: dict[str, float] = field(default_factory=dict)
    name: str = ""  # unit name ("fold 2", "seed 8")
    metrics: dict[str, float] = field(default_factory=dict)  # the unit's final metrics


@dataclass
class TrialOutcome:
    """What comes back from a worker: the result without Keras objects, or an error."""

    index: int
    result: ObjectiveResult | None = None  # models stripped (model=None)
    weights: list[list[Any]] | None = None  # per unit, model.get_weights()
    error: str | None = None
    device: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


class Channel(Protocol):
    def report(self, event: Event) -> bool | None:
        """Send an event; a channel in the campaign's own process may return the verdict."""

    def verdict(self, index: int, epoch: int) -> bool | None:
        """True: stop; False: go on; None: not decided yet."""


class NoChannel:
    def report(self, event: Event) -> None:
        pass

    def verdict(self, index: int, epoch: int) -> bool | None:
        return False


OnEvent = Callable[[Event], "bool | None"]
UNIT_KEY = 100_000  # verdict keys: an epoch's number, or UNIT_KEY x a unit's number


def verdict_key(event: Event) -> int:
    """Where a verdict on `event` is kept: keys grow as a trial goes on (epochs of the first
    unit, then each unit's end), so "decided up to key" answers any earlier question."""
    return event.epoch if event.kind == "epoch" else UNIT_KEY * event.unit


class Executor(Protocol):
    """Runs a campaign's trials: `start` once, `submit` up to `capacity` trials at once, `poll`
    for the ones that ended (calling `on_event` for each epoch and unit a running trial reports;
    True for an epoch is the verdict "stop this trial"), `cancel_all` when the campaign ends
    early, `close` always. `tags()`: what the campaign's run records about where trials ran."""

    capacity: int  # trials at once
    name: str

    def start(self, data: PreparedData, spec: TrialSpec, cache_file: Path | None) -> None: ...

    def submit(self, index: int, params: dict[str, Any]) -> None: ...

    def poll(self, timeout: float, on_event: OnEvent) -> list[TrialOutcome]: ...

    def cancel_all(self) -> None: ...

    def close(self) -> None: ...

    def tags(self) -> dict[str, Any]: ...
