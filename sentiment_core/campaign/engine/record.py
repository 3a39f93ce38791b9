"""The campaign record: one typed object that the engine's parts share instead of loose
arguments, and the campaign's rule for its best trial."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ... import tags as T
from ...config import ExperimentConfig
from ...data import PreparedData
from .noise import PooledNoise
from ..store.paths import Store
from ..store.search import Search
from ..store.tracking import Tracker


@dataclass
class CampaignRecord:
    """One campaign while it runs: what it optimizes, its data, and its two records."""

    experiment: ExperimentConfig
    name: str
    trials: int  # the budget: trials that count (completed or stopped early by Ax)
    store: Store
    data: PreparedData
    search: Search
    tracker: Tracker
    parent_id: str
    commit: str
    progress: Callable[[str], None]
    noise: PooledNoise = field(default_factory=PooledNoise)  # shared by the record's copies

    @property
    def metric(self) -> str:
        return self.experiment.objective.metric

    @property
    def direction(self) -> str:
        return self.experiment.objective.direction

    @property
    def units(self) -> int:
        """Folds x replicates: the training runs whose mean is a trial's value."""
        return self.experiment.objective.folds * self.experiment.objective.replicates

    def better(self, value: float, than: float) -> bool:
        return value > than if self.direction == "maximize" else value < than

    def observation(self, mean: float, n: int) -> float | tuple[float, float]:
        """What Ax is told of a trial's value over `n` independent estimates: the mean with
        the pooled standard error once the campaign has one, else the mean alone (Ax infers
        the noise). Never a mix of the two in one campaign (BoTorch cannot fit known and
        unknown noise together: the recorder re-tells earlier trials when the pool becomes
        ready), and never a standard error beside per-epoch values, which carry none."""
        sem = self.noise.sem(n) if self.units > 1 and not self.search.early_stopping else None
        return (mean, sem) if sem is not None else mean

    def rows(self) -> list[dict[str, Any]]:
        return self.tracker.trial_rows(self.parent_id)


def eligible(rows: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """The trials that can be the campaign's best: its own finished trials with a value. Paper
    rows, reproductions, refits, trials that early stopping ended before their last epoch and
    values recovered from Ax without a model never count."""
    scored = []
    for row in rows:
        tags = T.trial_tags(row)
        if tags.source == T.FROM_CAMPAIGN and row["status"] == "FINISHED" \
                and metric in row["metrics"] and not tags.early_stopped and not tags.recovered:
            scored.append(row)
    return scored


def best_trial(rows: list[dict[str, Any]], metric: str, direction: str
               ) -> dict[str, Any] | None:
    """The campaign's best trial by its value (the mean over its units; after
    intensification, over all of them, which is also what Ax holds). Once trials were
    intensified, the best comes from them: a trial measured on more seeds beats one measured on
    fewer whose mean is luckier (SMAC's incumbent rule). Ties go to the trial that finished
    first (the one whose model the campaign logged)."""
    scored = eligible(rows, metric)
    intensified = [r for r in scored if r["tags"].get(T.INTENSIFIED)]
    scored = intensified or scored
    if not scored:
        return None
    sign = -1 if direction == "maximize" else 1
    return min(scored, key=lambda r: (sign * r["metrics"][metric], r["end_ms"] or 0))
