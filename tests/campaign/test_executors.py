"""Executors and the concurrent campaign loop: a scripted executor for the loop's logic (fast),
real worker processes and a real local Ray for the executors themselves."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from sentiment_core.campaign import Search, Store, run_campaign, with_execution
from sentiment_core.campaign.execution.local import LocalExecutor
from sentiment_core.campaign.execution.protocol import Event, TrialOutcome, TrialSpec
from sentiment_core.data import cache_path
from sentiment_core.errors import InputError
from sentiment_core.experiments import load_experiment
from sentiment_core.trial import ObjectiveResult, TrialResult



# ---- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize("overrides, field", [
    ({"executor": "inline", "workers": 2}, "execution.workers"),
    ({"executor": "local", "gpus_per_trial": 1.0}, "execution.gpus_per_trial"),
    ({"executor": "ray", "device": "gpu"}, "execution.gpus_per_trial"),
    ({"executor": "ray", "gpus_per_trial": 1.5}, "execution.gpus_per_trial"),
])
def test_bad_execution_options_are_one_clear_error(tiny_experiment, overrides, field):
    with pytest.raises(InputError) as err:
        with_execution(tiny_experiment, **overrides)
    assert err.value.field == field


def test_workers_alone_choose_local_processes(tiny_experiment):
    assert with_execution(tiny_experiment, workers=3).execution.executor == "local"
    ray = with_execution(tiny_experiment, executor="ray", workers=2, gpus_per_trial=0.5)
    assert (ray.execution.executor, ray.execution.gpus_per_trial) == ("ray", 0.5)


def test_early_stopping_takes_a_noisy_objective(write_experiment):
    """Ax's per-epoch rule watches the first unit; the final mean is told without a standard
    error then (per-epoch values carry none), so replicates and folds no longer refuse it."""
    experiment = load_experiment(write_experiment(objective={
        "metric": "val_roc_auc", "direction": "maximize", "folds": 3}))
    assert with_execution(experiment, early_stopping=True).early_stopping.enabled


@pytest.mark.parametrize("objective", [{"replicates": 1}, {"replicates": 2, "folds": 2}])
def test_racing_needs_seeds_to_race_over(write_experiment, objective):
    with pytest.raises(InputError) as err:
        load_experiment(write_experiment(racing={"enabled": True}, objective={
            "metric": "val_roc_auc", "direction": "maximize", **objective}))
    assert err.value.field == "racing.enabled"


# ---- the loop, with a scripted executor -------------------------------------------------------


class ScriptedExecutor:
    """Trains nothing: each poll ends the most recently submitted trial (so trials end out of
    order), after streaming `epochs` epochs whose objective rises toward a value fixed by the
    parameters. Honours a stop verdict like a real worker."""

    name = "scripted"

    def __init__(self, capacity: int, epochs: int = 1):
        self.capacity, self.epochs = capacity, epochs
        self.running: list[tuple[int, dict]] = []
        self.log: list[tuple[str, int]] = []
        self.model = None

    def start(self, data, spec: TrialSpec, cache_file) -> None:
        self.data, self.spec = data, spec

    def submit(self, index, params) -> None:
        self.running.append((index, params))
        self.log.append(("submit", index))

    @staticmethod
    def quality(params) -> float:
        return 0.55 + 0.4 * (params["neurons_dense"] - 2) / 6

    def poll(self, timeout, on_event):
        if not self.running:
            return []
        index, params = self.running.pop()
        final, stopped, losses = self.quality(params), False, []
        for epoch in range(1, self.epochs + 1):
            value = final * epoch / self.epochs
            losses.append(1 - value)
            logs = {"loss": 1 - value, "val_loss": 1 - value, "val_roc_auc": value}
            if on_event(Event("epoch", index, 1, epoch, self.epochs, logs)) and \
                    epoch < self.epochs:
                stopped = True
                break
        value = final * len(losses) / self.epochs
        metrics = {"val_accuracy": value, "val_precision": value, "val_recall": value,
                   "val_f1": value, "val_macro_f1": value, "val_roc_auc": value,
                   "val_loss": 1 - value, "best_epoch": len(losses),
                   "epochs_run": len(losses)}
        rng = np.random.default_rng(index)
        proba = np.clip(self.data.y_val * value + rng.uniform(0, 1 - value,
                                                                len(self.data.y_val)), 0, 1)
        unit = TrialResult(params, 0, metrics, {"loss": losses, "val_loss": losses},
                           {"build_s": 0.0, "fit_s": 0.1, "evaluate_s": 0.0, "total_s": 0.1,
                            "samples_per_s": 1.0}, proba, self.tiny_model(params), stopped)
        self.log.append(("finish", index))
        result = ObjectiveResult([unit], ["seed 0"], self.data.y_val, proba, unit.model)
        return [TrialOutcome(index, result, None, None, {"device": "scripted"}, 0.1)]

    def tiny_model(self, params):
        from sentiment_core.models import build_model

        model = build_model(self.spec.family, params, len(self.data.vocabulary),
                            self.data.sequence_length, 2)
        model.optimizer.build(model.trainable_variables)  # saved like a trained model
        return model

    def cancel_all(self) -> None:
        self.running.clear()

    def close(self) -> None:
        pass

    def tags(self) -> dict:
        return {"scripted_capacity": self.capacity}


def test_a_new_executor_is_one_class_and_one_registry_entry(write_experiment, tmp_path,
                                                            monkeypatch):
    """Registered in one place, the YAML accepts it, the CLI offers it and a campaign runs on
    it with no executor passed in."""
    from sentiment_core.cli import cli
    from sentiment_core.executor_registry import EXECUTORS, ExecutorEntry

    class Toy(ScriptedExecutor):
        name = "toy"
        built: list = []

        @classmethod
        def from_config(cls, execution):
            cls.built.append(cls(capacity=execution.workers))
            return cls.built[-1]

    monkeypatch.setitem(EXECUTORS, "toy", ExecutorEntry("toy", Toy, "scripted, for tests"))
    option = next(p for p in cli.commands["campaign"].commands["run"].params
                  if p.name == "executor")
    assert "toy" in option.type.choices
    experiment = load_experiment(write_experiment(execution={"executor": "toy", "workers": 2}))
    store = Store(tmp_path / "store", tmp_path)
    summary = run_campaign(experiment, "toy-run", 3, store, progress=lambda m: None)
    assert summary.completed == 3 and len(Toy.built) == 1
    assert ("finish", 0) in Toy.built[0].log
    tags = store.tracker().client.get_run(summary.parent_run_id).data.tags
    assert (tags["executor"], tags["workers"], tags["scripted_capacity"]) == ("toy", "2", "2")


def test_results_are_told_as_they_arrive_not_in_lockstep(tiny_experiment, tmp_path):
    store = Store(tmp_path / "store", tmp_path)
    executor = ScriptedExecutor(capacity=2)
    summary = run_campaign(tiny_experiment, "scripted", 4, store, executor=executor,
                           progress=lambda m: None)
    assert summary.completed == 4 and summary.failed == 0
    log = executor.log
    # two at once from the start; trial 0 runs on while 1, 2 and 3 are told and replaced
    assert log[:2] == [("submit", 0), ("submit", 1)]
    assert log.index(("submit", 2)) < log.index(("finish", 0))
    assert log[-1] == ("finish", 0)
    trials = Search.open("scripted", tiny_experiment.space, tiny_experiment.objective,
                         tiny_experiment.optimizer, 0, store.ax_db).trials()
    assert [t["status"] for t in trials] == ["COMPLETED"] * 4
    keys = [tuple(sorted(t["params"].items())) for t in trials]
    assert len(set(keys)) == 4
    tracker = store.tracker()
    runs = tracker.children(summary.parent_run_id)
    assert sorted(r.info.status for r in runs) == ["FINISHED"] * 4
    assert {r.data.tags["device"] for r in runs} == {"scripted"}
    best = tracker.find_campaign("scripted").data.tags["best_run_id"]
    assert tracker.client.get_run(best).data.tags.get("model_uri")


def test_fewer_trials_from_ax_wait_for_results(write_experiment, tmp_path):
    # Sobol budget 4, four workers: Ax hands out 4 trials, then has nothing to propose
    # (DataRequiredError) until enough of them have data; the loop waits instead of stopping.
    experiment = load_experiment(write_experiment(optimizer={"initialization_trials": 4}))
    store = Store(tmp_path / "store", tmp_path)
    executor = ScriptedExecutor(capacity=4)
    summary = run_campaign(experiment, "short-asks", 6, store, executor=executor,
                           progress=lambda m: None)
    assert summary.completed == 6
    submits = [i for kind, i in executor.log if kind == "submit"]
    assert submits[:4] == [0, 1, 2, 3]
    assert executor.log.index(("submit", 4)) > executor.log.index(("finish", 3))
    generations = [t["generation"] for t in Search.open(
        "short-asks", experiment.space, experiment.objective, experiment.optimizer, 0,
        store.ax_db).trials()]
    assert generations[:4] == ["Center", "Sobol", "Sobol", "Sobol"]
    assert generations[4:] == ["BoTorch", "BoTorch"]


def test_bayesian_concurrency_caps_trials_in_the_botorch_phase(write_experiment, tmp_path):
    experiment = load_experiment(write_experiment(
        optimizer={"initialization_trials": 2, "bayesian_concurrency": 1}))
    store = Store(tmp_path / "store", tmp_path)
    executor = ScriptedExecutor(capacity=3)
    run_campaign(experiment, "capped", 5, store, executor=executor, progress=lambda m: None)
    running, most = set(), {}
    generations = {t["trial_index"]: t["generation"] for t in Search.open(
        "capped", experiment.space, experiment.objective, experiment.optimizer, 0,
        store.ax_db).trials()}
    for kind, index in executor.log:
        (running.add if kind == "submit" else running.discard)(index)
        if generations[index] == "BoTorch" and kind == "submit":
            most[index] = len(running)
    assert most and max(most.values()) == 1  # never a BoTorch trial beside another


def test_early_stopping_marks_trials_in_ax_and_mlflow(write_experiment, tmp_path):
    experiment = load_experiment(write_experiment(
        optimizer={"initialization_trials": 3},
        early_stopping={"enabled": True, "min_curves": 2, "min_epochs": 1}))
    store = Store(tmp_path / "store", tmp_path)
    executor = ScriptedExecutor(capacity=1, epochs=4)
    summary = run_campaign(experiment, "pruned", 7, store, executor=executor,
                           progress=lambda m: None)
    assert summary.early_stopped >= 1
    assert summary.completed + summary.early_stopped == 7
    trials = Search.open("pruned", experiment.space, experiment.objective,
                         experiment.optimizer, 0, store.ax_db).trials()
    stopped = {t["trial_index"] for t in trials if t["status"] == "EARLY_STOPPED"}
    assert len(stopped) == summary.early_stopped
    tracker = store.tracker()
    rows = tracker.trial_rows(summary.parent_run_id)
    tagged = {int(r["tags"]["ax_trial_index"]) for r in rows
              if r["tags"].get("early_stopped") == "ax"}
    assert tagged == stopped
    assert all(r["status"] == "FINISHED" for r in rows)
    assert int(summary.best["tags"]["ax_trial_index"]) not in stopped
    assert "EARLY_STOPPED" in summary.table
    # each stopped trial's curve went to Ax epoch by epoch, and stopped before the last epoch
    for r in rows:
        if r["tags"].get("early_stopped"):
            assert int(r["tags"]["stopped_after_epoch"]) < 4


# ---- real workers ---------------------------------------------------------------------------


def _spec(experiment) -> TrialSpec:
    return TrialSpec(experiment.seed, experiment.model.family, device="cpu")


def _collect(executor, count: int, timeout: float = 300) -> tuple[list[TrialOutcome], list]:
    outcomes, events = [], []
    deadline = time.monotonic() + timeout
    while len(outcomes) < count and time.monotonic() < deadline:
        outcomes += executor.poll(1.0, lambda e: events.append(e) or False)
    return outcomes, events


@pytest.fixture(scope="session")
def local_run(tmp_path_factory):
    """Three trials through one local worker process, shared by the tests below (a spawned
    worker imports TensorFlow: seconds of CPU each). The features family: rebuilding its model
    from a worker's weights needs the train split's feature statistics (a ValueError before),
    so the rebuild below is the one a campaign makes for each new best."""
    import yaml

    from conftest import experiment_dict, make_tweets, write_csv
    from sentiment_core.data import prepare

    root = tmp_path_factory.mktemp("local-worker")
    (root / "space.yaml").write_text(yaml.safe_dump(FEATURES_SPACE))
    (root / "exp.yaml").write_text(yaml.safe_dump(experiment_dict(
        write_csv(root / "tweets.csv", make_tweets()), model={"family": "features"},
        search_space=str(root / "space.yaml"))))
    experiment = load_experiment(root / "exp.yaml")
    data = prepare(experiment, root, root / "cache")
    cache = cache_path(root / "cache", data.fingerprint)
    assert cache.exists()
    params = experiment.space.defaults()
    executor = LocalExecutor(workers=1, device="cpu")
    executor.start(data, _spec(experiment), cache)
    try:
        executor.submit(0, params)
        for index in (1, 2):
            executor.submit(index, {**params, "lstm_units": 2 + index})
        outcomes, events = _collect(executor, 3)
    finally:
        executor.close()
    return experiment, data, params, sorted(outcomes, key=lambda o: o.index), events


def test_local_workers_load_the_arrays_once_and_train_in_their_own_process(local_run):
    *_, outcomes, events = local_run
    assert [o.index for o in outcomes] == [0, 1, 2]
    assert all(o.error is None for o in outcomes), [o.error for o in outcomes]
    last = max(outcomes, key=lambda o: o.device["worker_trials"])
    assert last.device["worker_trials"] == 3 and last.device["worker_data_loads"] == 1
    assert {o.device["worker_pid"] for o in outcomes} != {os.getpid()}
    assert all(o.result.model is None and o.weights for o in outcomes)  # weights, no Keras
    assert sorted((e.index, e.kind) for e in events) == \
        [(0, "epoch"), (0, "unit"), (1, "epoch"), (1, "unit"), (2, "epoch"), (2, "unit")]


def test_local_worker_gives_the_inline_result(local_run):
    from sentiment_core.campaign.execution.worker import rebuild_model
    from sentiment_core.trial import run_objective

    tiny_experiment, tiny_data, params, (outcome, *_), _ = local_run
    inline = run_objective(params, tiny_data, tiny_experiment.seed,
                           family=tiny_experiment.model.family)
    assert outcome.result.mean == inline.mean  # same seed, same data: bit-identical
    from sentiment_core.models import model_inputs

    model = rebuild_model(outcome, params, tiny_experiment.model.family, tiny_data)

    def predicted(model):
        inputs = model_inputs(model, tiny_data.x_val, len(tiny_data.vocabulary))
        return model.predict(inputs, verbose=0).reshape(-1)

    np.testing.assert_allclose(predicted(model), predicted(inline.model), rtol=1e-6)


def test_ray_runs_two_trials_at_once_from_the_object_store(tiny_experiment, tiny_data):
    ray = pytest.importorskip("ray")
    from sentiment_core.campaign.execution.ray import RayExecutor

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=100 * 2**20)
    try:
        executor = RayExecutor(workers=2, cpus_per_trial=1)
        executor.start(tiny_data, _spec(tiny_experiment), None)
        params = tiny_experiment.space.defaults()
        for index in range(2):
            executor.submit(index, {**params, "neurons_dense": 3 + index})
        outcomes, events = _collect(executor, 2)
        executor.close()
    finally:
        ray.shutdown()
    assert sorted(o.index for o in outcomes) == [0, 1]
    assert all(o.error is None for o in outcomes), [o.error for o in outcomes]
    assert len({o.device["worker_pid"] for o in outcomes}) == 2  # side by side
    assert {e.kind for e in events} == {"epoch", "unit"}
    assert outcomes[0].device["device"] == "cpu"  # no GPU asked for: none taken


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["inline", "local"])
def test_early_stopping_reaches_real_workers(kind, tmp_path):
    import yaml

    from conftest import ROOT, experiment_dict, make_tweets, write_csv

    csv = write_csv(tmp_path / "tweets.csv", make_tweets(400))
    space = yaml.safe_load((ROOT / "tests" / "tiny_space.yaml").read_text())
    space["fixed"]["num_epochs"] = 4
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(space))
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump(experiment_dict(
        csv, search_space=str(tmp_path / "space.yaml"), optimizer={"initialization_trials": 3},
        early_stopping={"enabled": True, "min_curves": 2, "min_epochs": 1})))
    experiment = with_execution(load_experiment(tmp_path / "exp.yaml"), executor=kind,
                                workers=1)
    store = Store(tmp_path / "store", tmp_path)
    summary = run_campaign(experiment, "es", 6, store, progress=lambda m: None)
    assert summary.early_stopped >= 1 and summary.completed + summary.early_stopped == 6
    rows = store.tracker().trial_rows(summary.parent_run_id)
    stopped = [r for r in rows if r["tags"].get("ax_status") == "EARLY_STOPPED"]
    assert len(stopped) == summary.early_stopped
    for r in stopped:  # the worker really stopped training: fewer epochs logged than planned
        history = store.tracker().client.get_metric_history(r["run_id"], "loss")
        assert len(history) == int(r["tags"]["stopped_after_epoch"]) < 4
    statuses = [t["status"] for t in Search.open(
        "es", experiment.space, experiment.objective, experiment.optimizer, experiment.seed,
        store.ax_db).trials()]
    assert statuses.count("EARLY_STOPPED") == summary.early_stopped


@pytest.mark.slow
def test_workers_honour_keras_backend(tiny_experiment, tiny_data, tmp_path, monkeypatch):
    """A worker trains under the backend KERAS_BACKEND names (torch here, on CPU) and sends
    weights the campaign process (TensorFlow) can load."""
    pytest.importorskip("torch")
    from sentiment_core.campaign.execution.worker import rebuild_model

    monkeypatch.setenv("KERAS_BACKEND", "torch")  # inherited by the spawned worker only
    executor = LocalExecutor(workers=1, device="cpu")
    executor.start(tiny_data, _spec(tiny_experiment),
                   cache_path(tmp_path / "cache", tiny_data.fingerprint))
    params = tiny_experiment.space.defaults()
    try:
        executor.submit(0, params)
        (outcome,), _ = _collect(executor, 1)
    finally:
        executor.close()
    assert outcome.error is None, outcome.error
    assert outcome.device["keras_backend"] == "torch"
    assert outcome.device["lstm_kernel"] == "no GPU"
    model = rebuild_model(outcome, params, tiny_experiment.model.family, tiny_data)
    assert model.predict(tiny_data.x_val, verbose=0).shape[0] == len(tiny_data.y_val)


FEATURES_SPACE = {
    "parameters": {"learning_rate": {"type": "float", "bounds": [0.001, 0.05], "log_scale": True,
                                     "default": 0.02},
                   "lstm_units": {"type": "int", "bounds": [2, 4], "default": 2}},
    "fixed": {"embedding_size": 4, "feature_units": 2, "neurons_dense": 2, "dropout_rate": 0.0,
              "num_epochs": 1, "batch_size": 64}}


# inline is every other campaign test's executor; the worker processes are what broke. The fast
# tier rebuilds a features model from a local worker's weights in `local_run`'s tests.
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["inline", "local", "ray"])
def test_the_features_family_runs_under_every_executor(kind, write_experiment, tmp_path):
    """A worker sends weights; the campaign rebuilds a new best's model from them, which for
    the features family needs the train split's feature statistics (a ValueError before)."""
    import yaml

    if kind == "ray":
        pytest.importorskip("ray")
    space = tmp_path / "features_space.yaml"
    space.write_text(yaml.safe_dump(FEATURES_SPACE))
    experiment = with_execution(load_experiment(write_experiment(
        model={"family": "features"}, search_space=str(space))), executor=kind,
        **({"workers": 1} if kind == "ray" else {}))
    store = Store(tmp_path / "store", tmp_path)
    summary = run_campaign(experiment, f"features-{kind}", 1, store, progress=lambda m: None)
    assert (summary.completed, summary.failed) == (1, 0)
    classifier = store.tracker().load_classifier(summary.best["run_id"])
    assert classifier.predict(["great answer tonight", "worst debate ever"]).shape[0] == 2
