"""The campaign's noise estimate: the within-trial variance of the objective, pooled across
its trials, with its degrees of freedom.

A trial of 2 seeds has an sd with one degree of freedom: about 38% of the time it is below half
the true value, and Ax would take it as exact. Seed noise is much the same for every trial of a
space, so the variances are pooled (sum of (n_i - 1) s_i^2 over sum of (n_i - 1)); a trial's
standard error is then sd_pooled / sqrt(n_i). Until the pool has `min_df` degrees of freedom
nothing is claimed: Ax infers the noise itself (told the mean alone) and nothing is raced.

Independent estimates: with replicates only, each seed is one; with folds, the folds share
their training rows, so a seed's mean over the folds is one (a K-fold trial of one seed gives no
noise estimate of its own).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from ...trial import ObjectiveResult


def independent_values(result: ObjectiveResult, metric: str, folds: int) -> list[float]:
    """The trial's independent estimates of its value (see the module doc)."""
    values = [u.metrics[metric] for u in result.units]
    if folds <= 1:
        return values
    replicates = max(1, result.planned_units // folds)
    by_seed = [values[r::replicates] for r in range(replicates)]
    complete = [v for v in by_seed if len(v) == folds]
    return [statistics.fmean(v) for v in complete]


@dataclass
class PooledNoise:
    min_df: int = 3
    squares: float = 0.0  # sum of (n_i - 1) * s_i^2
    df: int = 0

    def add(self, values: list[float]) -> None:
        if len(values) > 1:
            self.squares += (len(values) - 1) * statistics.variance(values)
            self.df += len(values) - 1

    def add_recorded(self, sd: float, n: int) -> None:
        """A trial recorded before (resume): its sd over n independent estimates."""
        if n > 1 and math.isfinite(sd):
            self.squares += (n - 1) * sd * sd
            self.df += n - 1

    @property
    def ready(self) -> bool:
        return self.df >= self.min_df

    @property
    def sd(self) -> float | None:
        return math.sqrt(self.squares / self.df) if self.ready else None

    def sem(self, n: int) -> float | None:
        """The standard error of a mean over n independent estimates (None: not known yet)."""
        return self.sd / math.sqrt(n) if self.ready and n > 0 else None

    def clearly_behind(self, mean: float, n: int, best: float, n_best: int, z: float,
                       maximize: bool) -> bool:
        """A one-sided test: the challenger's mean is below the incumbent's by more than z
        standard errors of their difference."""
        if not self.ready or n < 1 or n_best < 1:
            return False
        gap = (best - mean) if maximize else (mean - best)
        return gap > z * self.sd * math.sqrt(1 / n + 1 / n_best)

    def describe(self) -> dict[str, Any]:
        return {"noise_sd_pooled": self.sd, "noise_df": self.df} if self.ready else \
            {"noise_df": self.df}
