"""The noise-aware objective: folds, replicates, the standard error told to Ax, class weights,
early stopping, and the test split scored once for the winner."""

from __future__ import annotations

import dataclasses
import math
import statistics

import numpy as np
import pytest
import yaml
from conftest import experiment_dict, make_tweets, write_csv

from sentiment_core.campaign import Search, Store, reproduce_trial, run_campaign
from sentiment_core.data import cross_validation_folds
from sentiment_core.experiments import load_experiment
from sentiment_core.trial import class_weights, run_objective, run_trial


def test_folds_keep_duplicate_groups_whole_and_never_touch_test(tiny_data):
    folds = cross_validation_folds(tiny_data, 3, seed=1)
    test_rows = set(tiny_data.rows["test"])
    held_out = []
    for fold in folds:
        assert not set(fold.keys["train"]) & set(fold.keys["val"])  # no group on both sides
        assert not (set(fold.rows["train"]) | set(fold.rows["val"])) & test_rows
        assert np.array_equal(fold.x_test, tiny_data.x_test)
        held_out.extend(fold.rows["val"])
    pool = set(tiny_data.rows["train"]) | set(tiny_data.rows["val"])
    assert sorted(held_out) == sorted(pool)  # every train+val row is held out exactly once


def test_objective_mean_and_sem_over_replicates(tiny_data, tiny_experiment):
    params = tiny_experiment.space.defaults()
    result = run_objective(params, tiny_data, seed=3, replicates=3, family=tiny_experiment.model.family)
    values = [u.metrics["val_roc_auc"] for u in result.units]
    assert [u.seed for u in result.units] == [3, 4, 5]
    assert result.mean["val_roc_auc"] == pytest.approx(statistics.fmean(values))
    assert result.sem("val_roc_auc") == pytest.approx(statistics.stdev(values) / math.sqrt(3))
    # the averaged model predicts the seeds' mean probability
    mean_proba = np.mean([u.val_proba for u in result.units], axis=0)
    averaged = result.model.predict(tiny_data.x_val, verbose=0).reshape(-1)
    assert np.allclose(averaged, mean_proba, atol=1e-5)


def test_class_weights_follow_the_balanced_formula():
    y = np.array([0] * 6 + [1] * 2)
    # balanced: n / (k * count) = 8 / (2 * 6) and 8 / (2 * 2)
    assert class_weights(y, "balanced") == pytest.approx({0: 8 / 12, 1: 2.0})
    assert class_weights(y, "none") is None


def test_class_weights_scale_the_training_loss(tiny_data, tiny_experiment):
    """With learning rate 0 and one batch the reported loss is mean(w_label * bce)."""
    data = dataclasses.replace(tiny_data)
    params = {**tiny_experiment.space.defaults(), "learning_rate": 0.0, "dropout_rate": 0.0,
              "num_epochs": 1, "batch_size": 4096}
    plain = run_trial({**params, "class_weight": "none"}, data, seed=5, family=tiny_experiment.model.family)
    weighted = run_trial({**params, "class_weight": "balanced"}, data, seed=5, family=tiny_experiment.model.family)
    p = np.clip(weighted.model.predict(data.x_train, verbose=0).reshape(-1), 1e-7, 1 - 1e-7)
    y = data.y_train
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    w = np.vectorize(class_weights(y, "balanced").get)(y)
    assert plain.history["loss"][0] == pytest.approx(bce.mean(), rel=1e-3)
    assert weighted.history["loss"][0] == pytest.approx((w * bce).mean(), rel=1e-3)


def test_early_stopping_restores_the_best_epoch(tiny_data, tiny_experiment):
    params = {**tiny_experiment.space.defaults(), "learning_rate": 0.05, "num_epochs": 12,
              "batch_size": 8, "early_stopping_patience": 2}
    result = run_trial(params, tiny_data, seed=0, family=tiny_experiment.model.family)
    val_losses = result.history["val_loss"]
    best = int(np.argmin(val_losses)) + 1
    assert result.metrics["best_epoch"] == best
    assert result.metrics["epochs_run"] == len(val_losses) <= best + 2
    restored = result.model.evaluate(tiny_data.x_val, tiny_data.y_val, verbose=0)[0]
    assert restored == pytest.approx(min(val_losses), rel=1e-4)


# session, not module: work stealing interleaves modules, and pytest tears a module fixture
# down whenever the next test comes from another module (three set-ups of one campaign)
@pytest.fixture(scope="session")
def folded_campaign(tmp_path_factory):
    root = tmp_path_factory.mktemp("folded")
    csv = write_csv(root / "tweets.csv", make_tweets())
    raw = experiment_dict(csv, objective={"metric": "val_roc_auc", "direction": "maximize",
                                          "folds": 3})
    (root / "exp.yaml").write_text(yaml.safe_dump(raw))
    experiment = load_experiment(root / "exp.yaml")
    store = Store(root / "store", root)
    summary = run_campaign(experiment, "folded", 2, store, progress=lambda m: None)
    return experiment, store, summary


def test_ax_is_told_the_folds_mean_and_infers_their_noise(folded_campaign):
    """K folds of one seed share their rows: their sd / sqrt(K) is no standard error (too
    small), and one seed gives no independent estimate to pool, so Ax gets the mean alone
    (no sem) and infers the noise; the run keeps the folds' own sd."""
    experiment, store, summary = folded_campaign
    tracker = store.tracker()
    search = Search.open("folded", experiment.space, experiment.objective,
                         experiment.optimizer, experiment.seed, store.ax_db)
    told = search.client._experiment.lookup_data().df.set_index("trial_index")
    for row in tracker.trial_rows(summary.parent_run_id):
        if row["tags"].get("source") != "campaign":
            continue  # reproductions another test may have added
        units = [m.value for m in tracker.client.get_metric_history(row["run_id"],
                                                                    "unit_val_roc_auc")]
        assert len(units) == 3
        index = int(row["tags"]["ax_trial_index"])
        assert told.loc[index, "mean"] == pytest.approx(statistics.fmean(units))
        assert math.isnan(told.loc[index, "sem"])
        assert row["metrics"]["val_roc_auc_sd"] == pytest.approx(statistics.stdev(units))
        assert row["metrics"]["noise_n"] == 1 and "val_roc_auc_sem" not in row["metrics"]


def test_the_winner_alone_is_scored_on_test(folded_campaign, tmp_path):
    experiment, store, summary = folded_campaign
    parent = store.tracker().client.get_run(summary.parent_run_id)
    assert parent.data.tags["test_scored_run_id"] == summary.best["run_id"]
    assert "test_macro_f1" in parent.data.metrics
    # and each distinct test tweet once: as many as the test split has duplicate groups
    from sentiment_core.data import prepare

    data = prepare(experiment, store.data_dir, store.cache_dir)
    groups = len(set(data.keys["test"].tolist()))
    assert parent.data.metrics["test_tweets_count"] == groups < len(data.y_test)
    assert 0 <= parent.data.metrics["test_tweets_macro_f1"] <= 1
    others = [r for r in store.tracker().trial_rows(summary.parent_run_id)
              if r["run_id"] != summary.best["run_id"] and r["tags"].get("source") == "campaign"]
    assert all("test_macro_f1" not in r["metrics"] for r in others)
    other = others[0]["tags"]["ax_trial_index"]
    silent = reproduce_trial(store, "folded", other, progress=lambda m: None)
    assert silent.test_metrics == {}  # another trial is not scored on test without the flag
    explicit = reproduce_trial(store, "folded", other, progress=lambda m: None,
                               score_test=True)
    run = store.tracker().client.get_run(explicit.run_id)
    assert explicit.test_metrics and run.data.tags["test_scored"] == "explicit"
