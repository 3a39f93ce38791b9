"""The Ax adapter: the only module that imports Ax.

    search = Search.open(name, space, objective, optimizer, seed, db_path)   # create or resume
    for index, params in search.ask(1).items(): ... search.tell(index, metrics)

State lives in Ax SQL storage (sqlite inside the store), so a campaign resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...config import EarlyStoppingConfig, ObjectiveConfig, OptimizerConfig, SearchSpace
from .lock import held_while
from .paths import sqlite_file_uri

_GENERATION = {"Sobol": "Sobol", "CenterOfSearchSpace": "Center", "MBM": "BoTorch",
               "MBMLean": "BoTorch", "BoTorch": "BoTorch", "Manual": "attached"}


def _quiet_ax() -> None:
    import torch
    from ax.utils.common.logger import set_stderr_log_level

    # Ax logs every trial at INFO, attached ones at WARNING; --verbose shows them
    verbose = os.environ.get("SENTIMENT_HPO_VERBOSE", "") not in ("", "0", "false")
    set_stderr_log_level(logging.INFO if verbose else logging.ERROR)
    # SQLAlchemy cache-key and BoTorch optimizer warnings are harmless and drown the progress.
    warnings.filterwarnings("ignore", module=r"(ax|botorch|gpytorch|linear_operator|sqlalchemy)")
    torch.set_num_threads(1)  # same BoTorch speed, leaves a core for TensorFlow


@contextmanager
def _own_torch_rng(client):
    """Generation seeded as Client(random_seed=...) seeds it, without moving Python's and
    NumPy's process-wide generators: Ax's `with_rng_seed` saves them, reseeds them and restores
    them when done, under any other thread that uses them (a trial being built beside a
    prefetched ask: issue 19). Ax draws only from torch when generating (Python's and NumPy's
    states are unchanged by an unseeded ask), so torch alone is forked and seeded: the same
    candidates as before. Ax is used by one thread at a time, so the seed is lent back safely."""
    import torch

    seed, client._random_seed = client._random_seed, None
    try:
        with torch.random.fork_rng():
            if seed is not None:
                torch.manual_seed(seed)
            yield
    finally:
        client._random_seed = seed


# Past `optimizer.lean_after` completed trials the BoTorch phase optimizes its acquisition
# function from 4 restarts picked among 128 random points instead of Ax's 20 among 1024: the
# same GP and acquisition function, a fifth of the optimizer's work, where that optimization is
# most of an ask (benchmarks/optimizer_scale.py).
LEAN_ACQUISITION = {"num_restarts": 4, "raw_samples": 128}
LEAN_NODE = "MBMLean"


def _with_lean_node(strategy, lean_after: int):
    """Ax's strategy (Center, Sobol, MBM) with MBM handing over to a lean copy of itself once
    `lean_after` trials are completed with data."""
    from ax.core.trial_status import TrialStatus
    from ax.generation_strategy.generation_node import GenerationNode
    from ax.generation_strategy.generation_strategy import GenerationStrategy
    from ax.generation_strategy.generator_spec import GeneratorSpec
    from ax.generation_strategy.transition_criterion import MinTrials

    *first, mbm = strategy._nodes
    spec = mbm.generator_specs[0]
    full = GenerationNode(
        name=mbm.name, generator_specs=[spec.copy()],
        transition_criteria=[MinTrials(
            threshold=lean_after, transition_to=LEAN_NODE, use_all_trials_in_exp=True,
            only_in_statuses=[TrialStatus.COMPLETED], count_only_trials_with_data=True)],
        should_deduplicate=mbm.should_deduplicate,
        suggested_experiment_status=mbm.suggested_experiment_status)
    lean = GenerationNode(
        name=LEAN_NODE,
        generator_specs=[GeneratorSpec(generator_enum=spec.generator_enum, generator_kwargs={
            **spec.generator_kwargs,
            "default_model_gen_options": {"optimizer_kwargs": dict(LEAN_ACQUISITION)}})],
        should_deduplicate=mbm.should_deduplicate,
        suggested_experiment_status=mbm.suggested_experiment_status)
    return GenerationStrategy(name=f"{strategy.name}+Lean", nodes=[*first, full, lean])


def _url(db: Path | str) -> str:
    """A sqlite file path, or a database URL (postgresql+psycopg://user:pass@host/ax)."""
    if isinstance(db, str) and "://" in db:
        return db
    db = Path(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    return sqlite_file_uri(db)


def _storage(db: Path | str):
    from ax import StorageConfig
    from ax.storage.sqa_store.db import (
        create_all_tables,
        get_engine,
        init_engine_and_session_factory,
    )

    url = _url(db)
    if url.startswith("postgresql"):
        _postgres_text_without_length()
    init_engine_and_session_factory(url=url, force_init=True)
    # Ax does not create its tables itself, and SQLAlchemy's create_all checks, then creates:
    # two processes opening one fresh database would both create (MLflow locks the same way)
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    with held_while(Path(tempfile.gettempdir()) / f"sentiment-hpo-ax-init-{digest}.lock"):
        create_all_tables(get_engine())
    return StorageConfig(url=url)


def _postgres_text_without_length() -> None:
    """Ax's tables are written for MySQL and tested on SQLite, which ignores string lengths:
    PostgreSQL refuses TEXT(4294967295) and VARCHAR above 10485760, and enforces the
    VARCHAR(4096) that Ax's JSON columns outgrow (a generation strategy is longer). On
    PostgreSQL every string column is therefore plain TEXT (no limit, as SQLite behaves);
    other dialects compile as before."""
    from sqlalchemy.ext.compiler import compiles
    from sqlalchemy.types import VARCHAR, String, Text

    @compiles(String, "postgresql")
    @compiles(VARCHAR, "postgresql")
    @compiles(Text, "postgresql")
    def _text(type_, compiler, **kw):  # noqa: ANN001 - SQLAlchemy's compiler hook
        return "TEXT"


def _exists_in_server(name: str, url: str) -> bool:
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    try:
        with engine.connect() as db:
            if not inspect(db).has_table("experiment_v2"):
                return False
            return db.execute(text("select 1 from experiment_v2 where name = :n"),
                              {"n": name}).first() is not None
    finally:
        engine.dispose()


def parameter_configs(space: SearchSpace) -> list[Any]:
    from ax import ChoiceParameterConfig, RangeParameterConfig

    configs = []
    for name, spec in space.parameters.items():
        if spec.type == "choice":
            kind = {bool: "bool", int: "int", float: "float", str: "str"}[type(spec.values[0])]
            configs.append(ChoiceParameterConfig(
                name=name, values=list(spec.values), parameter_type=kind,
                is_ordered=kind in ("int", "float"),
                # a hierarchical space: these parameters are proposed only with that value
                dependent_parameters=spec.dependents_by_value() or None))
        else:
            low, high = spec.bounds
            if spec.type == "int":
                low, high = int(low), int(high)
            configs.append(RangeParameterConfig(
                name=name, bounds=(low, high), parameter_type=spec.type,
                scaling="log" if spec.log_scale else "linear"))
    return configs


@dataclass
class Search:
    client: Any
    name: str
    early_stopping: bool = False  # an early-stopping rule is set (see set_early_stopping)

    @classmethod
    def exists(cls, name: str, db_path: Path | str) -> bool:
        if isinstance(db_path, str) and "://" in db_path:
            return _exists_in_server(name, db_path)
        db_path = Path(db_path)
        if not db_path.exists():
            return False
        import sqlite3

        with sqlite3.connect(db_path) as db:
            try:
                return db.execute("select 1 from experiment_v2 where name = ?",
                                  (name,)).fetchone() is not None
            except sqlite3.OperationalError:
                return False

    @classmethod
    def open(cls, name: str, space: SearchSpace, objective: ObjectiveConfig,
             optimizer: OptimizerConfig, seed: int, db_path: Path | str,
             prior_trials: int = 0,
             early_stopping: EarlyStoppingConfig | None = None) -> "Search":
        """Resume the campaign `name` from the database, or create it. The early-stopping
        rule and the client's random seed are not stored by Ax: both are set again on every
        open (`seed` is the campaign's own when it resumes; a loaded client would otherwise
        draw its Bayesian candidates unseeded)."""
        _quiet_ax()
        from ax import Client

        storage = _storage(db_path)
        if cls.exists(name, db_path):
            client = Client.load_from_database(name, storage_config=storage)
            client._random_seed = seed  # what Client(random_seed=seed) sets at creation
            search = cls(client, name)
            search.set_early_stopping(early_stopping)
            return search
        client = Client(storage_config=storage, random_seed=seed)
        client.configure_experiment(parameters=parameter_configs(space), name=name)
        sign = "-" if objective.direction == "minimize" else ""
        client.configure_optimization(objective=f"{sign}{objective.metric}")
        client.configure_generation_strategy(
            method="random_search" if optimizer.strategy == "random" else "fast",
            initialization_budget=optimizer.initialization_trials,
            initialization_random_seed=seed,
            # attached paper rows carry no objective value: they must not replace Sobol trials
            use_existing_trials_for_initialization=prior_trials == 0,
        )
        if optimizer.strategy == "bayesian" and optimizer.lean_after:
            client.set_generation_strategy(_with_lean_node(client._generation_strategy,
                                                           optimizer.lean_after))
        search = cls(client, name)
        search.set_early_stopping(early_stopping)
        return search

    def set_early_stopping(self, config: EarlyStoppingConfig | None) -> None:
        """Ax's percentile rule on the objective's per-epoch values (progression = epoch)."""
        self.early_stopping = bool(config and config.enabled)
        if not self.early_stopping:
            return
        from ax.early_stopping.strategies import PercentileEarlyStoppingStrategy

        self.client.set_early_stopping_strategy(PercentileEarlyStoppingStrategy(
            percentile_threshold=config.percentile, min_progression=config.min_epochs,
            min_curves=config.min_curves))

    # ---- ask / tell ----------------------------------------------------------------------

    def ask(self, count: int = 1) -> dict[int, dict[str, Any]]:
        """Up to `count` new trials, marked RUNNING. Fewer, or none, when Ax must first see
        results: at the end of the Sobol budget it waits for enough completed trials
        (DataRequiredError) before BoTorch takes over."""
        from ax.exceptions.core import DataRequiredError, OptimizationComplete
        from ax.exceptions.generation_strategy import MaxParallelismReachedException

        try:
            with _own_torch_rng(self.client):
                asked = self.client.get_next_trials(max_trials=count)
        except (DataRequiredError, MaxParallelismReachedException, OptimizationComplete):
            return {}
        return {i: dict(p) for i, p in asked.items()}

    def phase(self) -> str:
        """The generation node the next trial would come from: Center, Sobol or BoTorch."""
        try:
            strategy = self.client._generation_strategy
            # the move Ax would make at the next ask, if its criteria are met already
            strategy._maybe_transition_to_next_node(raise_data_required_error=False)
            node = strategy.current_node_name
        except Exception:  # noqa: BLE001 - nothing generated yet, or the strategy is done
            return "Center"
        return _GENERATION.get(node, node)

    def tell(self, index: int, metrics: dict[str, float | tuple[float, float]],
             progression: int | None = None) -> None:
        """Complete a trial with its values: a float, or (mean, standard error) for a noisy
        objective. With per-epoch reports, `progression` is the last epoch: the final value
        replaces that epoch's."""
        self.client.complete_trial(trial_index=index, raw_data=dict(metrics),
                                   progression=progression)

    def retell(self, index: int, metrics: dict[str, float | tuple[float, float]]) -> None:
        """A completed trial's value replaced (intensification measured it on more seeds):
        Ax 1.3's `Client.attach_data` replaces the observation of the same arm, metric and
        (absent) progression, keeps the trial COMPLETED, and saves it."""
        self.client.attach_data(trial_index=index, raw_data=dict(metrics))

    def report(self, index: int, metric: str, value: float, epoch: int) -> None:
        """One epoch's value of a running trial (a learning curve for early stopping)."""
        self.client.attach_data(trial_index=index, raw_data={metric: float(value)},
                                progression=int(epoch))

    def should_stop(self, index: int) -> bool:
        """Ax's early-stopping verdict on a running trial, from the curves so far."""
        if not self.early_stopping:
            return False
        return bool(self.client.should_stop_trial_early(trial_index=index))

    def early_stop(self, index: int) -> None:
        self.client.mark_trial_early_stopped(trial_index=index)

    def fail(self, index: int, reason: str) -> None:
        # Ax stores the reason in a VARCHAR(100) (MySQL and PostgreSQL enforce it)
        self.client.mark_trial_failed(trial_index=index, failed_reason=reason[:100])

    def abandon(self, index: int) -> None:
        self.client.mark_trial_abandoned(trial_index=index)

    def attach(self, params: dict[str, Any], arm_name: str) -> int:
        """A known parameterization, completed without objective data: Ax will not propose it
        again, and it cannot inform the model or become the best."""
        index = self.client.attach_trial(parameters=params, arm_name=arm_name)
        self.client.complete_trial(trial_index=index)
        return index

    # ---- what the experiment holds -------------------------------------------------------

    def trials(self) -> list[dict[str, Any]]:
        """index, arm, status (COMPLETED/FAILED/RUNNING/ABANDONED...), generation, params."""
        rows = []
        for index, trial in sorted(self.client._experiment.trials.items()):
            arm = trial.arm
            runs = trial.generator_runs
            node = runs[0]._generation_node_name if runs else None
            rows.append({
                "trial_index": index, "arm_name": arm.name if arm else None,
                "status": trial.status.name,
                "generation": _GENERATION.get(node or "Manual", node or "attached"),
                "params": dict(arm.parameters) if arm else {},
            })
        return rows

    def values(self, metric: str) -> dict[int, float]:
        """The value Ax holds for `metric` per trial (the mean of a noisy one; with per-epoch
        reports, the value at the last progression: the final one)."""
        frame = self.client._experiment.lookup_data().df
        if frame.empty:
            return {}
        frame = frame[frame["metric_name"] == metric]
        if "step" in frame:
            frame = frame.sort_values("step", na_position="last", kind="stable")
        return {int(i): float(v) for i, v in
                frame.groupby("trial_index")["mean"].last().items()}

    def seed(self) -> int | None:
        return self.client._random_seed

    def generation_of(self, index: int) -> str:
        return next(t["generation"] for t in self.trials() if t["trial_index"] == index)

    # ---- analyses ------------------------------------------------------------------------

    def predicted_best(self) -> tuple[int, float | None] | None:
        """The trial Ax's model predicts is best, with its predicted objective mean (the
        observed best where no model is fitted); None when there is nothing to ask."""
        try:
            _, outcome, index, _ = self.client.get_best_parameterization(
                use_model_predictions=True)
        except Exception:  # noqa: BLE001 - no completed trial with data yet
            return None
        value = next(iter(outcome.values()), None) if outcome else None
        return index, (value[0] if isinstance(value, tuple) else value)

    def sensitivity(self, metric: str) -> dict[str, float] | None:
        """Ax's GP-based total-order Sobol sensitivity of `metric` to each parameter, signed by
        the direction of its effect; None when no Bayesian model has been fitted yet."""
        from ax.analysis.plotly.sensitivity import SensitivityAnalysisPlot

        try:
            cards = self.client.compute_analyses(
                [SensitivityAnalysisPlot(metric_name=metric, top_k=None)], display=False)
            frame = cards[0].df
        except Exception:  # noqa: BLE001 - random search or too few trials: no model to ask
            return None
        if frame is None or frame.empty or "parameter_name" not in frame:
            return None
        return dict(zip(frame["parameter_name"], frame["sensitivity"].astype(float)))
