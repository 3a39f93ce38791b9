"""Campaigns with real Ax, a real sqlite MLflow store in a temporary folder, and tiny data."""

from __future__ import annotations

import pytest
import yaml

from sentiment_core.campaign import CampaignStopped, InlineExecutor, Search, Store, run_campaign
from sentiment_core.experiments import load_experiment
from sentiment_core.trial import TrialFailed


def test_four_trials_give_one_parent_and_four_children(finished):
    experiment, store, summary = finished
    tracker = store.tracker()
    assert len(tracker.campaigns()) == 1 and summary.completed == 4 and summary.failed == 0
    parent = tracker.find_campaign("tiny-4")
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["objective"] == "val_roc_auc"
    children = tracker.children(parent.info.run_id)
    assert len(children) == 4
    expected_params = set(experiment.space.parameters) | set(experiment.space.fixed)
    for run in children:
        tags, data = run.data.tags, run.data
        assert run.info.status == "FINISHED"
        assert set(data.params) == expected_params
        assert tags["campaign"] == "tiny-4" and tags["source"] == "campaign"
        assert tags["generation"] in {"Center", "Sobol", "BoTorch"}
        for key in ("ax_trial_index", "arm_name", "seed", "data_fingerprint", "git_commit"):
            assert tags[key]
        assert {"val_accuracy", "val_macro_f1", "val_roc_auc", "val_loss", "time_fit_s",
                "time_samples_per_s"} <= set(data.metrics)
        history = tracker.client.get_metric_history(run.info.run_id, "loss")
        assert [m.step for m in history] == [1]  # one per epoch, step = epoch
        artifacts = {a.path for a in tracker.client.list_artifacts(run.info.run_id)}
        assert {"learning_curves.png", "confusion_matrix.png", "config.yaml"} <= artifacts
    parent_files = {a.path for a in tracker.client.list_artifacts(parent.info.run_id)}
    assert {"table5.md", "table5.csv", "experiment.yaml", "search_space.yaml"} <= parent_files
    trials = Search.open("tiny-4", experiment.space, experiment.objective, experiment.optimizer,
                         experiment.seed, store.ax_db).trials()
    assert [t["status"] for t in trials] == ["COMPLETED"] * 4


class FailOnCall(InlineExecutor):
    """Trains like InlineExecutor, except that its `fail_on`-th call fails (counted per
    instance, so no test sees another's calls)."""

    def __init__(self, fail_on: int):
        super().__init__()
        self.fail_on = fail_on
        self.calls = 0

    def run(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.fail_on:
            raise TrialFailed("the training loss became NaN")
        return super().run(*args, **kwargs)


def test_a_failing_trial_does_not_stop_the_campaign(tiny_experiment, tmp_path):
    store = Store(tmp_path / "store", tmp_path)
    executor = FailOnCall(fail_on=2)
    summary = run_campaign(tiny_experiment, "with-failure", 3, store, executor=executor,
                           progress=lambda m: None)
    assert summary.completed == 3 and summary.failed == 1
    assert executor.calls == 4  # the failed trial is replaced, not counted toward the budget
    runs = store.tracker().children(summary.parent_run_id)
    failed = [r for r in runs if r.info.status == "FAILED"]
    assert len(failed) == 1 and "NaN" in failed[0].data.tags["error"]
    statuses = [t["status"] for t in Search.open(
        "with-failure", tiny_experiment.space, tiny_experiment.objective,
        tiny_experiment.optimizer, 0, store.ax_db).trials()]
    assert statuses.count("FAILED") == 1 and statuses.count("COMPLETED") == 3


def test_too_many_failures_stop_the_campaign(write_experiment, tmp_path):
    experiment = load_experiment(write_experiment(budget={"trials": 3, "max_failure_rate": 0.0}))
    store = Store(tmp_path / "store", tmp_path)
    with pytest.raises(CampaignStopped):
        run_campaign(experiment, "fragile", 3, store, executor=FailOnCall(fail_on=1),
                     progress=lambda m: None)
    assert store.tracker().find_campaign("fragile").info.status == "FAILED"


def test_attach_seed_table_rows_are_shown_but_never_best(write_experiment, tmp_path):
    space = {"parameters": {
        "learning_rate": {"type": "float", "bounds": [1e-4, 0.3], "log_scale": True},
        "dropout_rate": {"type": "float", "bounds": [0.0, 0.5]},
        "lstm_units": {"type": "int", "bounds": [1, 10]},
        "neurons_dense": {"type": "int", "bounds": [1, 20]},
        "num_epochs": {"type": "int", "bounds": [1, 7]},
        "batch_size": {"type": "int", "bounds": [700, 900]},
        "embedding_size": {"type": "int", "bounds": [8, 700], "log_scale": True}}}
    (tmp_path / "table5.yaml").write_text(yaml.safe_dump(space))
    experiment = load_experiment(write_experiment(search_space=str(tmp_path / "table5.yaml"),
                                                  model={"family": "lstm"}))
    store = Store(tmp_path / "store", tmp_path)
    summary = run_campaign(experiment, "with-paper", 2, store, attach_seed_table=True,
                           progress=lambda m: None)
    assert summary.completed == 2 and summary.best["tags"]["source"] == "campaign"
    runs = store.tracker().trial_rows(summary.parent_run_id)
    paper = [r for r in runs if r["tags"]["source"] == "paper"]
    assert len(paper) == 10 and all("paper_keras_cv" in r["metrics"] for r in paper)
    assert max(r["metrics"]["paper_keras_cv"] for r in paper) == 0.980021
    trials = Search.open("with-paper", experiment.space, experiment.objective,
                         experiment.optimizer, experiment.seed, store.ax_db).trials()
    assert [t["generation"] for t in trials].count("attached") == 10
    assert "paper_keras_cv" in summary.table and summary.table.count("*") == 1


def test_attach_seed_table_needs_a_covering_space(tiny_experiment, tmp_path):
    from sentiment_core.errors import InputError

    store = Store(tmp_path / "store", tmp_path)
    with pytest.raises(InputError) as err:
        run_campaign(tiny_experiment, "no-cover", 2, store, attach_seed_table=True,
                     progress=lambda m: None)
    assert err.value.field.startswith("parameters.")
    assert store.tracker().find_campaign("no-cover") is None
    assert not Search.exists("no-cover", store.ax_db)


def test_random_strategy_never_uses_botorch(write_experiment, tmp_path):
    experiment = load_experiment(write_experiment(
        optimizer={"strategy": "random", "initialization_trials": 1}))
    store = Store(tmp_path / "store", tmp_path)
    run_campaign(experiment, "random", 3, store, progress=lambda m: None)
    generations = [t["generation"] for t in Search.open(
        "random", experiment.space, experiment.objective, experiment.optimizer,
        experiment.seed, store.ax_db).trials()]
    assert len(generations) == 3 and "BoTorch" not in generations


class InFlight(InlineExecutor):
    """Inline training that knows whether a trial is in flight (submitted, not yet returned)."""

    in_flight = False

    def submit(self, index, params):
        self.in_flight = True
        super().submit(index, params)

    def run(self, *args, **kwargs):
        try:
            return super().run(*args, **kwargs)
        finally:
            self.in_flight = False


def record_asks(monkeypatch, executor) -> list[tuple[str, bool]]:
    import threading

    asks, original = [], Search.ask

    def ask(self, count=1):
        asks.append((threading.current_thread().name, executor.in_flight))
        return original(self, count)

    monkeypatch.setattr(Search, "ask", ask)
    return asks


@pytest.mark.parametrize("prefetch", [True, False])
def test_the_next_candidate_is_generated_while_a_trial_trains(
        prefetch, write_experiment, tmp_path, monkeypatch):
    experiment = load_experiment(write_experiment(optimizer={"strategy": "bayesian",
                                                             "prefetch": prefetch}))
    executor = InFlight()
    asks = record_asks(monkeypatch, executor)
    store = Store(tmp_path / "store", tmp_path)
    summary = run_campaign(experiment, "prefetch", 3, store, executor=executor,
                           progress=lambda m: None)
    assert summary.completed == 3
    overlapped = [flight for thread, flight in asks if thread.startswith("hpo-ask")]
    if prefetch:  # trials 2 and 3 were asked for while 1 and 2 trained; none asked in vain
        assert overlapped == [True, True]
    else:
        assert overlapped == []
    statuses = [t["status"] for t in Search.open(
        "prefetch", experiment.space, experiment.objective, experiment.optimizer, 0,
        store.ax_db).trials()]
    assert statuses == ["COMPLETED"] * 3


def test_a_failed_background_write_surfaces_in_the_campaign_thread():
    import errno

    from sentiment_core.campaign.engine.background import BackgroundWriter

    def full_disk():
        raise OSError(errno.ENOSPC, "No space left on device")

    writer = BackgroundWriter()
    written = []
    writer.submit(written.append, 1)
    writer.submit(full_disk)
    with pytest.raises(OSError, match="No space left"):
        writer.drain()
    writer.drain()  # reported once
    writer.close()
    assert written == [1]
