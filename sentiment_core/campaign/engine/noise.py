"""The campaign's noise estimate: the within-trial variance of the objective, pooled across
its trials, with its degrees of freedom.

A trial of 2 seeds has an sd with one degree of freedom: about 38% of the time it is below half
the true value, and Ax would take it as exact. Seed noise is much the same for trials of a space
that train well, so their variances are pooled (sum of (n_i - 1) s_i^2 over sum of (n_i - 1));
a trial's standard error is then sd_pooled / sqrt(n_i). Until all trials together have `min_df`
degrees of freedom nothing is claimed: Ax infers the noise itself (told the mean alone) and
nothing is raced.

Which trials pool: the better half by mean (at or above the median), once they hold `min_df`
degrees of freedom themselves; all trials before that. A configuration that diverges on some
seeds has a seed sd ten times a good one's (a 20-trial gop_debate_lstm campaign: two such trials,
sd 0.137 and 0.141 over 3 seeds, against 0.004-0.016 for the top ones, made the all-trials pool
0.047): the noise that decides the winner and the races is the noise near the top.

Independent estimates: with replicates only, each seed is one; with folds, the folds share
their training rows, so a seed's mean over the folds is one (a K-fold trial of one seed gives no
noise estimate of its own).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
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
    maximize: bool = True
    trials: list[tuple[float, int, float]] = field(default_factory=list)  # mean, df, s^2

    def add(self, values: list[float]) -> None:
        if len(values) > 1:
            self.trials.append((statistics.fmean(values), len(values) - 1,
                                statistics.variance(values)))

    def add_recorded(self, mean: float, sd: float, n: int) -> None:
        """A trial recorded before (resume): its mean and sd over n independent estimates."""
        if n > 1 and math.isfinite(sd) and math.isfinite(mean):
            self.trials.append((mean, n - 1, sd * sd))

    @property
    def df(self) -> int:
        return sum(df for _, df, _ in self.trials)

    @property
    def ready(self) -> bool:
        """Once true, true for the rest of the campaign (trials are only ever added)."""
        return self.df >= self.min_df

    def pooled(self) -> list[tuple[float, int, float]]:
        """The trials whose variances pool: the better half by mean when it has `min_df`
        degrees of freedom, else all (see the module doc)."""
        median = statistics.median(mean for mean, _, _ in self.trials)
        half = [t for t in self.trials if (t[0] >= median if self.maximize else t[0] <= median)]
        return half if sum(df for _, df, _ in half) >= self.min_df else self.trials

    @property
    def sd(self) -> float | None:
        if not self.ready:
            return None
        pool = self.pooled()
        return math.sqrt(sum(df * var for _, df, var in pool) / sum(df for _, df, _ in pool))

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
        if not self.ready:
            return {"noise_df": self.df}
        pool = self.pooled()
        return {"noise_sd_pooled": self.sd, "noise_df": sum(df for _, df, _ in pool),
                "noise_trials": f"{len(pool)} of {len(self.trials)}"}
