"""How a campaign runs, in the experiment schema: the optimizer, early stopping across trials,
where trials execute, and the budget; with their checks beyond types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .errors import InputError
from .executor_registry import EXECUTORS


@dataclass(frozen=True)
class OptimizerConfig:
    strategy: Literal["bayesian", "random"] = "bayesian"  # random: Sobol only, the baseline
    initialization_trials: int = 5  # Sobol trials before BoTorch takes over
    # Trials running at once in the BoTorch phase (0: as many as there are workers). Each
    # pending trial makes the next proposal less informed; legacy AxClient capped it at 3.
    bayesian_concurrency: int = 0
    # One trial at a time (inline executor, no early stopping across trials): generate the next
    # candidate while the current trial trains, as if a second worker were waiting. Saves Ax's
    # generation time (1-2 s a trial in the BoTorch phase) at the price of one pending trial in
    # each proposal. The trial stays bit-identical: its Keras seeds are its own
    # (models.seeding) and Ax's generation leaves Python's and NumPy's generators alone.
    prefetch: bool = True
    # Completed trials after which the BoTorch phase optimizes its acquisition function with a
    # fifth of the effort (campaign/store/search.py LEAN_ACQUISITION): past this size Ax's ask,
    # not the trials, caps the trials per hour of a few parallel workers (benchmarks/RESULTS.md,
    # "Optimizer at scale"). 0: never.
    lean_after: int = 100


@dataclass(frozen=True)
class EarlyStoppingConfig:
    """Early stopping across trials: each epoch's objective value goes to Ax, whose percentile
    rule stops a trial that is in the bottom `percentile` of the trials at the same epoch.
    (Not the `early_stopping_patience` training option, which watches one trial's val loss.)"""

    enabled: bool = False
    percentile: float = 50.0  # stop when below this percentile of the others at the same epoch
    min_epochs: int = 1  # never stop a trial before it has run more than this many epochs
    min_curves: int = 3  # trials with finished curves before any trial is stopped


@dataclass(frozen=True)
class RacingConfig:
    """Racing across a trial's units (seeds, folds): after each unit, a trial whose upper
    confidence bound is below the incumbent's mean stops there and is told to Ax with what it
    has. The noise is the campaign's pooled within-trial sd (see campaign/engine/noise.py)."""

    enabled: bool = False
    # one-sided z of "clearly behind": m - b < -z * sd * sqrt(1/n + 1/n_best); 1.645 = 95%
    z: float = 1.645
    min_df: int = 3  # pooled degrees of freedom before anything is raced (or told as noise)


@dataclass(frozen=True)
class ExecutionConfig:
    """Where trials run; the campaign process stays the only one talking to Ax and MLflow."""

    executor: str = "inline"  # a name of executor_registry.EXECUTORS
    workers: int = 1  # trials at once
    ray_address: str | None = None  # None: start a local Ray; "auto" or ray://host:10001 joins
    gpus_per_trial: float = 0.0  # Ray resources per trial (fractions share a GPU)
    cpus_per_trial: float = 1.0
    device: Literal["auto", "cpu", "gpu"] = "auto"  # cpu hides GPUs; gpu fails without one


@dataclass(frozen=True)
class IntensifyConfig:
    """Before the campaign ends, its `top` trials get further seeds until each has
    `min_units` units; the winner is then the best intensified trial by the mean over all its
    units (a trial measured on more seeds beats one measured on fewer, as in SMAC). The extra
    units come out of the budget: it is counted in units (trials x units a trial), and
    ceil(top x (min_units - units a trial) / units a trial) trials are kept back from the
    search for them, so the campaign never trains more units than `trials` trials would."""

    top: int = 3
    min_units: int = 5


@dataclass(frozen=True)
class RefitConfig:
    """The final model: the winner retrained on train + validation for its best epoch count
    (mean over its units, rounded) as an ensemble of `seeds` seeds; it is the model scored on
    test and served by `predict` (the tuned-split model stays recorded beside it)."""

    seeds: int = 3


@dataclass(frozen=True)
class BudgetConfig:
    trials: int = 20
    max_failure_rate: float = 0.5  # the campaign stops once more trials than this share failed


def check_early_stopping(exp: Any, where: str) -> None:
    """`exp`: an ExperimentConfig (config.py, which builds on this module)."""
    es = exp.early_stopping
    if not 0 < es.percentile < 100:
        raise InputError(where, "early_stopping.percentile", "must be between 0 and 100")
    if es.min_epochs < 0 or es.min_curves < 1:
        raise InputError(where, "early_stopping", "min_epochs must be >= 0, min_curves >= 1")
    racing = exp.racing
    if racing.z <= 0 or racing.min_df < 1:
        raise InputError(where, "racing", "z must be > 0 and min_df >= 1")
    if racing.enabled and (exp.objective.replicates < 2 or exp.objective.folds > 1):
        # a seed's mean over K folds is one estimate, complete only after the last fold
        raise InputError(where, "racing.enabled",
                         "needs objective.replicates >= 2 and folds = 1 (seeds to race over)")


def intensify_reserve(exp: Any, trials: int) -> tuple[int, int]:
    """(trials kept back for intensification, units they hold): the extra units of the top
    trials, rounded up to whole trials of `objective.replicates` units each."""
    config, units = exp.intensify, exp.objective.replicates
    if config is None:
        return 0, 0
    extra = config.top * max(0, config.min_units - units)
    reserve = -(-extra // units)
    return reserve, reserve * units


def check_intensify(exp: Any, where: str, trials: int | None = None,
                    field: str = "budget.trials") -> None:
    """Intensification adds seeds on the fixed split: no folds, no per-epoch curves."""
    config = exp.intensify
    if config is None:
        return
    if config.top < 1 or config.min_units < 2:
        raise InputError(where, "intensify", "top must be >= 1 and min_units >= 2")
    if exp.objective.folds > 1:
        raise InputError(where, "intensify", "adds seeds on the fixed split; it needs "
                                             "objective.folds = 1")
    if exp.early_stopping.enabled:
        raise InputError(where, "intensify", "needs early_stopping.enabled false (a trial's "
                                             "value would mix per-epoch curves with seeds)")
    trials = exp.budget.trials if trials is None else trials
    reserve, _ = intensify_reserve(exp, trials)
    if trials - reserve < config.top:
        raise InputError(where, field, f"{trials} trials leave {trials - reserve} for the "
                         f"search after the {reserve} kept back for intensify (top "
                         f"{config.top}, min_units {config.min_units}); give at least "
                         f"{reserve + config.top}")


def check_refit(exp: Any, where: str) -> None:
    if exp.refit is not None and not 1 <= exp.refit.seeds <= 20:
        raise InputError(where, "refit.seeds", "must be between 1 and 20")


def check_execution(ex: ExecutionConfig, where: str) -> None:
    if ex.executor not in EXECUTORS:
        raise InputError(where, "execution.executor",
                         f"must be one of {', '.join(EXECUTORS)} (got {ex.executor!r})")
    entry = EXECUTORS[ex.executor]
    if ex.workers < 1:
        raise InputError(where, "execution.workers", "must be at least 1")
    if not entry.parallel and ex.workers > 1:
        raise InputError(where, "execution.workers",
                         f"the {ex.executor} executor runs one trial at a time; use "
                         + " or ".join(n for n, e in EXECUTORS.items() if e.parallel))
    if ex.gpus_per_trial < 0 or ex.cpus_per_trial <= 0:
        raise InputError(where, "execution", "gpus_per_trial must be >= 0, cpus_per_trial > 0")
    if entry.ray_resources and ex.device == "gpu" and not ex.gpus_per_trial:
        raise InputError(where, "execution.gpus_per_trial",
                         "device gpu on Ray needs gpus_per_trial > 0 (Ray assigns the GPUs)")
    if ex.gpus_per_trial and not entry.ray_resources:
        raise InputError(where, "execution.gpus_per_trial", "is a Ray resource request; "
                         "use executor ray (local workers see the machine's GPUs)")
    if ex.gpus_per_trial > 1 and not float(ex.gpus_per_trial).is_integer():
        raise InputError(where, "execution.gpus_per_trial",
                         "above 1 must be a whole number of GPUs (Ray's rule)")
