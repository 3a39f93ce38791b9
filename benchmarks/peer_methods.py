"""The methods `benchmarks/peers.py` compares, each run for a wall-clock budget on one objective.

Every method returns the same record: `points` (each completed trial inside the budget: `t`, its
end in seconds from the method's start; `value`, the mean of seeds; `params`), `trials`,
`stopped` (raced or pruned trials) and `error` (why a method could not run, else None).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import statistics
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_WARM = False  # Bench.warm_up has run in this process
METHODS = ("platform", "platform-random", "optuna", "kerastuner")
PEERS = ("platform-random", "optuna", "kerastuner")  # what a user would pick instead


@dataclass
class Bench:
    """One campaign seed: the experiment with that seed, its prepared data, the budget."""

    experiment: Any
    data: Any
    seed: int
    budget: float
    tmp: Path
    scoring: str  # test-score "all" incumbents (the curve), the final "winner", or "none"
    scores: dict = field(default_factory=dict)  # params -> test macro F1 (retrained once)

    @classmethod
    def load(cls, name: str, seed: int, budget: float, tmp: Path, scoring: str) -> "Bench":
        from sentiment_core.data import data_dir, prepare
        from sentiment_core.experiments import load_experiment

        experiment = dataclasses.replace(load_experiment(name), seed=seed)
        data = prepare(experiment, data_dir(), tmp / "cache")
        bench = cls(experiment, data, seed, budget, tmp, scoring)
        bench.warm_up()
        return bench

    def warm_up(self) -> None:
        """TensorFlow imported and Keras's training step traced once in this process, off
        every clock: otherwise the first method run pays it (10-20 s here) and the others
        do not. One 1-epoch trial of the space's smallest values. Ax is imported here too (4-8
        s with torch and BoTorch), as Optuna and KerasTuner are before their clocks start."""
        global _WARM
        if _WARM:
            return
        import ax  # noqa: F401
        smallest = {name: (int(spec.bounds[0]) if spec.type == "int" else spec.bounds[0])
                    if spec.bounds else spec.values[0]
                    for name, spec in self.experiment.space.parameters.items()}
        self.evaluate({**smallest, "num_epochs": 1})
        _WARM = True

    @property
    def metric(self) -> str:
        return self.experiment.objective.metric

    def evaluate(self, tuned: dict, on_unit=None):
        from sentiment_core.trial import run_objective

        exp = self.experiment
        return run_objective({**tuned, **exp.space.fixed}, self.data, exp.seed,
                             exp.model.family, exp.objective.folds, exp.objective.replicates,
                             on_unit=on_unit)

    def test_score(self, tuned: dict) -> float:
        """The configuration retrained with the seeds it was judged on (bit-identical runs),
        its seeds' averaged model scored once on the test split at threshold 0.5."""
        from sentiment_core.evaluation import classification_metrics

        key = json.dumps(tuned, sort_keys=True)
        if key not in self.scores:
            model = self.evaluate(tuned).model
            proba = model.predict(self.data.x_test, batch_size=1024, verbose=0).reshape(-1)
            self.scores[key] = float(classification_metrics(self.data.y_test, proba)["macro_f1"])
        return self.scores[key]


class OutOfTime(Exception):
    """Raised from the platform's progress callback once the budget is spent."""


def run_platform(bench: Bench, strategy: str, trials: int = 10_000) -> dict:
    """`run_campaign` (inline executor, racing on) on a temp store, stopped after `trials`
    trials or at the first progress line after the budget; the trials are read back from its
    MLflow store, each point with `n`, its place among all the trials that ended (raced ones
    included)."""
    import mlflow

    from sentiment_core.campaign import Store, run_campaign
    from sentiment_core.data import data_dir, prepare

    exp = bench.experiment
    exp = dataclasses.replace(exp, optimizer=dataclasses.replace(exp.optimizer,
                                                                 strategy=strategy),
                              racing=dataclasses.replace(exp.racing, enabled=True))
    store = Store(bench.tmp / f"{strategy}-{bench.seed}", data_dir=data_dir())
    prepare(exp, store.data_dir, store.cache_dir)  # the cache warm, as for the others
    # the MLflow database created, as a user's store is after its first campaign: creating
    # one runs MLflow's schema migrations (3-8 s here), a once-per-store cost
    store.tracker().client.search_experiments()
    began, began_epoch = time.perf_counter(), time.time()

    def progress(line: str) -> None:
        if time.perf_counter() - began > bench.budget:
            raise OutOfTime

    try:
        run_campaign(exp, f"peers-{strategy}", trials, store, progress=progress)
    except OutOfTime:
        pass
    client = mlflow.MlflowClient(tracking_uri=store.sqlite_uri)
    ids = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(ids, "tags.kind = 'trial'", max_results=10_000)
    points, done, stopped = [], 0, 0
    for run in sorted(runs, key=lambda r: r.info.end_time or 0):
        if run.info.status != "FINISHED" or bench.metric not in run.data.metrics:
            continue
        t = run.info.end_time / 1000 - began_epoch
        if t > bench.budget:
            continue
        done += 1
        if "raced" in run.data.tags or "early_stopped" in run.data.tags:
            stopped += 1  # a part mean: never the incumbent, as for the others
            continue
        points.append({"t": t, "n": done, "value": run.data.metrics[bench.metric],
                       "params": typed(run.data.params, exp.space)})
    return {"points": points, "trials": done, "stopped": stopped}


def typed(logged: dict[str, str], space) -> dict:
    """MLflow's string params back to the search space's types (tuned ones only)."""
    out = {}
    for name, spec in space.parameters.items():
        text = logged[name]
        if spec.type == "int":
            out[name] = int(float(text))
        elif spec.type == "float":
            out[name] = float(text)
        else:
            out[name] = next(v for v in spec.values if str(v) == text)
    return out


def run_optuna(bench: Bench) -> dict:
    """TPE (defaults) with a MedianPruner told the running mean after each seed."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space, points = bench.experiment.space, []
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=bench.seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=5))
    began = time.perf_counter()

    def objective(trial) -> float:
        tuned = {name: suggest(trial, name, spec) for name, spec in space.parameters.items()}
        values, pruned = [], []

        def on_unit(i: int, _name: str, unit) -> bool:
            if time.perf_counter() - began > bench.budget:
                return True  # past the budget this trial cannot count: stop its seeds
            values.append(unit.metrics[bench.metric])
            trial.report(statistics.fmean(values), step=i)
            if trial.should_prune():
                pruned.append(i)
                return True
            return False

        result = bench.evaluate(tuned, on_unit)
        if pruned and len(result.units) < result.planned_units:
            raise optuna.TrialPruned()
        value = result.mean[bench.metric]
        if (t := time.perf_counter() - began) <= bench.budget:
            points.append({"t": t, "value": value, "params": tuned})
        return value

    study.optimize(objective, timeout=bench.budget)
    done = [t for t in study.trials if t.datetime_complete is not None
            and (t.datetime_complete.timestamp() - study.trials[0].datetime_start.timestamp()
                 <= bench.budget)]
    return {"points": points, "trials": len(done),
            "stopped": sum(t.state == optuna.trial.TrialState.PRUNED for t in done)}


def suggest(trial, name: str, spec):
    if spec.type == "int":
        return trial.suggest_int(name, int(spec.bounds[0]), int(spec.bounds[1]),
                                 log=spec.log_scale)
    if spec.type == "float":
        return trial.suggest_float(name, spec.bounds[0], spec.bounds[1], log=spec.log_scale)
    return trial.suggest_categorical(name, spec.values)


def run_kerastuner(bench: Bench) -> dict:
    """Hyperband with the epochs as its resource (num_epochs' upper bound as max_epochs); the
    objective is the same run_objective (a promoted trial retrains from scratch: the objective
    owns the model, so Hyperband's warm start from a checkpoint is not used)."""
    import keras_tuner as kt

    space, points = bench.experiment.space, []
    hp = kt.HyperParameters()
    for name, spec in space.parameters.items():
        if name == "num_epochs":
            continue
        log = "log" if spec.log_scale else "linear"
        if spec.type == "int":
            hp.Int(name, int(spec.bounds[0]), int(spec.bounds[1]), sampling=log)
        elif spec.type == "float":
            hp.Float(name, spec.bounds[0], spec.bounds[1], sampling=log)
        else:
            hp.Choice(name, spec.values)
    max_epochs = int(space.parameters["num_epochs"].bounds[1])
    began = time.perf_counter()

    class Tuner(kt.Hyperband):
        def run_trial(self, trial, *args, **kwargs):
            tuned = {n: trial.hyperparameters.get(n) for n in space.parameters
                     if n != "num_epochs"}
            tuned["num_epochs"] = int(trial.hyperparameters.get("tuner/epochs"))
            value = bench.evaluate(tuned).mean[bench.metric]
            if (t := time.perf_counter() - began) <= bench.budget:
                points.append({"t": t, "value": value, "params": tuned})
            return {bench.metric: value}

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            if time.perf_counter() - began > bench.budget:  # no further trial
                self.oracle.max_trials = len(self.oracle.trials)

    logging.getLogger("keras_tuner").setLevel(logging.WARNING)
    tuner = Tuner(objective=kt.Objective(bench.metric, "max"), max_epochs=max_epochs,
                  factor=3, hyperband_iterations=10_000, seed=bench.seed, hyperparameters=hp,
                  directory=str(bench.tmp / "kerastuner"), project_name=f"s{bench.seed}",
                  overwrite=True)
    tuner.search(verbose=0)
    return {"points": points, "trials": len(points), "stopped": 0}


def run_method(method: str, bench: Bench) -> dict:
    """One run; its incumbents test-scored after the clock stopped (all, or the winner)."""
    runner = {"platform": lambda b: run_platform(b, "bayesian"),
              "platform-random": lambda b: run_platform(b, "random"),
              "optuna": run_optuna, "kerastuner": run_kerastuner}[method]
    load = os.getloadavg()[0]
    try:
        run = runner(bench)
    except Exception as err:  # a peer that cannot run here is reported, not fatal
        traceback.print_exc()
        return {"points": [], "trials": 0, "stopped": 0, "budget": bench.budget,
                "seed": bench.seed, "load": load,
                "error": f"{type(err).__name__}: {str(err)[:200]}"}
    steps = {"all": incumbents(run["points"]), "winner": incumbents(run["points"])[-1:],
             "none": []}[bench.scoring]
    for p in steps:
        p["test_macro_f1"] = bench.test_score(p["params"])
    return {**run, "budget": bench.budget, "seed": bench.seed, "load": load, "error": None}


def incumbents(points: list[dict]) -> list[dict]:
    """The best-so-far steps of a run's completed trials, in the order they ended."""
    steps, best = [], -math.inf
    for p in sorted(points, key=lambda p: p["t"]):
        if p["value"] > best:
            best = p["value"]
            steps.append(p)
    return steps
