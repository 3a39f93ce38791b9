"""Issue 18: intensification (more seeds for the top trials, inside the budget; the winner by
its full mean) and the refit (the winner retrained on train + validation, scored once on test,
served by `predict CAMPAIGN`)."""

from __future__ import annotations

import statistics

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score
from click.testing import CliRunner
from conftest import experiment_dict

from sentiment_core import tags as T
from sentiment_core.campaign import Search, Store, best_trial, check_agreement, run_campaign
from sentiment_core.campaign.engine import refit as refit_module
from sentiment_core.campaign.engine.intensify import unit_history
from sentiment_core.campaign.review.context import resolve_model
from sentiment_core.cli import cli
from sentiment_core.data import prepare
from sentiment_core.errors import InputError
from sentiment_core.evaluation import table5
from sentiment_core.experiments import load_experiment


def _experiment(tmp_path, tiny_csv, **overrides):
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(experiment_dict(tiny_csv, **overrides)))
    return load_experiment(path)


def _campaign_rows(store: Store, name: str):
    tracker = store.tracker()
    parent = tracker.require_campaign(name)
    return tracker, parent, tracker.trial_rows(parent.info.run_id)


def test_intensify_adds_units_to_the_top_trials_only_within_the_budget(tmp_path, tiny_csv):
    # 2 seeds a trial; the top 2 get 1 more each: 2 units = 1 trial kept back of 4
    exp = _experiment(tmp_path, tiny_csv, objective={"metric": "val_roc_auc",
                                                     "direction": "maximize", "replicates": 2},
                      intensify={"top": 2, "min_units": 3})
    store = Store(tmp_path / "store", tmp_path)
    lines: list[str] = []
    summary = run_campaign(exp, "int-4", 4, store, progress=lines.append)
    tracker, parent, rows = _campaign_rows(store, "int-4")
    trials = [r for r in rows if T.trial_tags(r).campaign_trial]
    assert len(trials) == 3 and parent.data.tags[T.SEARCH_TRIALS] == "3"
    units = {r["run_id"]: len(unit_history(tracker, r["run_id"], "val_roc_auc"))
             for r in trials}
    assert sum(units.values()) <= 4 * 2  # never more units than 4 trials of 2 seeds
    intensified = [r for r in trials if r["tags"].get(T.INTENSIFIED)]
    others = [r for r in trials if not r["tags"].get(T.INTENSIFIED)]
    assert len(intensified) == 2 and len(others) == 1
    assert all(units[r["run_id"]] == 3 for r in intensified)
    assert units[others[0]["run_id"]] == 2
    # the top 2 by the search's own values (the first units' mean) were the ones intensified
    assert min(r["metrics"]["initial_val_roc_auc"] for r in intensified) >= \
        others[0]["metrics"]["val_roc_auc"]
    # the third unit is seed 7 + 2; the trial's value is the mean of all three, as Ax holds it
    for r in intensified:
        values = unit_history(tracker, r["run_id"], "val_roc_auc")
        assert r["metrics"]["val_roc_auc"] == pytest.approx(statistics.fmean(values))
        assert r["tags"][T.UNITS] == "seed 7, seed 8, seed 9"
    search = Search.open("int-4", exp.space, exp.objective, exp.optimizer, exp.seed,
                         store.ax_location)
    assert check_agreement(search, tracker, parent.info.run_id, "val_roc_auc") == []
    # the winner: the intensified trial with the best full mean, with a model, scored on test
    best = max(intensified, key=lambda r: r["metrics"]["val_roc_auc"])
    assert summary.best["run_id"] == best["run_id"] == parent.data.tags[T.BEST_RUN_ID]
    assert tracker.load_classifier(best["run_id"]) is not None
    assert tracker.client.get_run(best["run_id"]).data.tags[T.TEST_SCORED] == "winner"
    # Table 5's "(model)" column is the logged model's own validation score, whichever seeds
    # made it (the search's or, for a trial that had none, the intensification's)
    data = prepare(exp, tmp_path, tmp_path / "cache-check")
    for r in intensified:
        model = tracker.load_classifier(r["run_id"])
        shown = tracker.client.get_run(r["run_id"]).data.metrics["pooled_val_roc_auc"]
        assert roc_auc_score(data.y_val, np.ravel(model.predict_ids(data.x_val))) == \
            pytest.approx(shown, abs=1e-6)
    table = table5(rows, list(exp.space.parameters), "val_roc_auc", best["run_id"])
    assert sorted(table["units"].tolist()) == [2, 3, 3]
    assert any("kept back for the top 2" in line for line in lines)


def test_too_few_trials_for_intensify_is_one_input_error_and_nothing_written(tmp_path,
                                                                              tiny_csv):
    exp = _experiment(tmp_path, tiny_csv, intensify={"top": 2, "min_units": 3},
                      budget={"trials": 6})  # 1 unit a trial: 4 kept back, 2 searched
    store = Store(tmp_path / "store", tmp_path)
    with pytest.raises(InputError, match="--trials.*give at least 6"):
        run_campaign(exp, "small", 5, store, progress=lambda m: None)
    assert not (tmp_path / "store" / "mlflow.db").exists()
    with pytest.raises(InputError, match="budget.trials"):
        _experiment(tmp_path, tiny_csv, intensify={"top": 2, "min_units": 3},
                    budget={"trials": 5})
    with pytest.raises(InputError, match="intensify.*folds"):
        _experiment(tmp_path, tiny_csv, intensify={"top": 2, "min_units": 3},
                    budget={"trials": 9}, objective={"folds": 3})


def _row(run_id, value, units, intensified=False, end=0):
    tags = {T.SOURCE: T.FROM_CAMPAIGN, T.AX_TRIAL_INDEX: run_id[-1],
            T.UNITS: ", ".join(f"seed {i}" for i in range(units))}
    if intensified:
        tags[T.INTENSIFIED] = str(units)
    return {"run_id": run_id, "status": "FINISHED", "metrics": {"m": value}, "tags": tags,
            "end_ms": end}


def test_the_winner_is_the_best_intensified_trial_by_its_full_mean():
    rows = [_row("r1", 0.71, 5, True), _row("r2", 0.74, 5, True),
            _row("r3", 0.80, 2)]  # luckier on 2 seeds, never measured on 5
    assert best_trial(rows, "m", "maximize")["run_id"] == "r2"
    assert best_trial(rows, "m", "minimize")["run_id"] == "r1"
    plain = [_row("r1", 0.71, 2), _row("r3", 0.80, 2)]  # no intensification: the old rule
    assert best_trial(plain, "m", "maximize")["run_id"] == "r3"


def test_refit_trains_on_train_plus_validation_only_and_is_scored_and_served(
        tmp_path, tiny_csv, monkeypatch):
    exp = _experiment(tmp_path, tiny_csv, refit={"seeds": 2})
    store = Store(tmp_path / "store", tmp_path)
    seen = []
    real = refit_module.run_trial

    def spy(params, data, seed, family, **kwargs):
        seen.append((params, data, seed, kwargs))
        return real(params, data, seed, family, **kwargs)

    monkeypatch.setattr(refit_module, "run_trial", spy)
    run_campaign(exp, "refit-2", 2, store, progress=lambda m: None)
    tracker, parent, rows = _campaign_rows(store, "refit-2")
    winner = best_trial(rows, "val_roc_auc", "maximize")
    refits = [r for r in rows if r["tags"].get(T.SOURCE) == T.FROM_REFIT]
    assert len(refits) == 1 and len(seen) == 2 and [s[2] for s in seen] == [7, 8]
    refit = refits[0]
    from sentiment_core.data import prepare
    data = prepare(exp, tmp_path, store.cache_dir)
    for params, trained_on, _, kwargs in seen:
        assert kwargs["validate"] is False
        assert params["num_epochs"] == max(1, round(winner["metrics"]["best_epoch"]))
        assert sorted(trained_on.rows["train"]) == sorted(
            np.concatenate([data.rows["train"], data.rows["val"]]))
        assert not set(trained_on.rows["train"]) & set(data.rows["test"])
        assert len(trained_on.y_val) == 0
        assert len(trained_on.x_train) == len(data.x_train) + len(data.x_val)
    # labeled: the refit names its winner; the winner keeps its own (tuned-split) model
    assert refit["tags"][T.KIND] == "refit" and refit["tags"][T.REFITS] == winner["run_id"]
    assert refit["tags"][T.MODEL_ROLE] == "refit"
    assert winner["tags"][T.MODEL_ROLE] == "tuned_split" and winner["tags"].get(T.MODEL_URI)
    # scored once on test: the refit, not the tuned-split winner
    assert refit["tags"][T.TEST_SCORED] == "refit" and "test_macro_f1" in refit["metrics"]
    assert not any(k.startswith("test_") for k in winner["metrics"])
    assert parent.data.tags[T.TEST_SCORINGS] == "1"
    assert parent.data.tags[T.TEST_SCORED_RUN_ID] == refit["run_id"]
    # a campaign name resolves to the refit model; predict serves it
    _, run, classifier = resolve_model(store, "refit-2")
    assert run.info.run_id == refit["run_id"]
    texts = ["what a great win", "hate the worst liar"]
    expected = classifier.predict(texts)
    out = tmp_path / "predictions.csv"
    result = CliRunner().invoke(cli, ["--store", str(store.path), "--data-dir", str(tmp_path),
                                      "predict", "refit-2", *texts, "--output", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    served = pd.read_csv(out)
    assert np.allclose(served["p_positive"], expected["p_positive"], atol=1e-5)
    tuned = tracker.load_classifier(winner["run_id"]).predict(texts)
    assert not np.allclose(served["p_positive"], tuned["p_positive"], atol=1e-5)
    # a resume with the same winner uses the refit again (no second refit, no second scoring)
    run_campaign(exp, "refit-2", 2, store, progress=lambda m: None)
    _, parent, rows = _campaign_rows(store, "refit-2")
    assert len([r for r in rows if r["tags"].get(T.SOURCE) == T.FROM_REFIT]) == 1
    assert parent.data.tags[T.TEST_SCORINGS] == "1" and len(seen) == 2


def test_run_trial_without_validation_trains_exactly_its_epochs(tiny_data, tiny_experiment):
    from sentiment_core.data import train_plus_validation
    from sentiment_core.trial import run_trial

    params = {**tiny_experiment.space.defaults(), "num_epochs": 3,
              "early_stopping_patience": 1, "reduce_lr_patience": 1}
    result = run_trial(params, train_plus_validation(tiny_data), seed=1, validate=False, family=tiny_experiment.model.family)
    assert result.metrics["epochs_run"] == 3 and len(result.history["loss"]) == 3
    assert not any(k.startswith("val_") for k in result.history)
