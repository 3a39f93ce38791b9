"""Racing and the pooled noise: a scripted executor whose trials have several seeds with known
values (fast: nothing trains), and the pooled-variance arithmetic on its own."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from test_executors import ScriptedExecutor

from sentiment_core.campaign import Search, Store, run_campaign
from sentiment_core.campaign.engine.noise import PooledNoise
from sentiment_core.campaign.execution.protocol import Event, TrialOutcome
from sentiment_core.experiments import load_experiment
from sentiment_core.trial import ObjectiveResult, TrialResult


def test_the_pool_weighs_each_trial_by_its_degrees_of_freedom():
    noise = PooledNoise(min_df=3)
    noise.add([0.60, 0.64])            # df 1
    assert noise.sem(2) is None and noise.sd is None  # not enough to claim a noise level
    noise.add([0.70, 0.71, 0.75])      # df 2
    expected = (statistics.variance([0.60, 0.64]) + 2 * statistics.variance([0.70, 0.71, 0.75]))
    assert noise.df == 3
    assert noise.sd == pytest.approx(math.sqrt(expected / 3))
    assert noise.sem(4) == pytest.approx(noise.sd / 2)
    recorded = PooledNoise(min_df=3)
    recorded.add_recorded(0.62, statistics.stdev([0.60, 0.64]), 2)
    recorded.add_recorded(0.72, statistics.stdev([0.70, 0.71, 0.75]), 3)
    assert recorded.sd == pytest.approx(noise.sd)  # a resume rebuilds the same pool


@pytest.mark.parametrize("maximize", [True, False])
def test_trials_that_diverge_on_some_seeds_do_not_inflate_the_noise_near_the_top(maximize):
    sign = 1 if maximize else -1
    noise = PooledNoise(min_df=3, maximize=maximize)
    good = [[0.71, 0.72, 0.70], [0.70, 0.71, 0.705], [0.69, 0.70, 0.71]]
    for values in good:
        noise.add([sign * v for v in values])
    noise.add([sign * v for v in [0.20, 0.45, 0.60]])  # a learning rate that diverges
    noise.add([sign * v for v in [0.30, 0.62, 0.50]])
    near_top = math.sqrt(sum(2 * statistics.variance(v) for v in good) / 6)
    assert noise.sd == pytest.approx(near_top)
    assert noise.describe()["noise_trials"] == "3 of 5"
    everything = PooledNoise(min_df=30, maximize=maximize)
    everything.add([0.5, 0.6])
    assert not everything.ready  # readiness counts every trial's degrees of freedom


def test_the_pool_falls_back_to_all_trials_until_the_better_half_has_its_df():
    noise = PooledNoise(min_df=3)
    noise.add([0.70, 0.72])  # the better half: 1 df, too few
    noise.add([0.20, 0.60])
    noise.add([0.30, 0.31])
    pooled_all = math.sqrt((0.0002 + 0.08 + 0.00005) / 3)
    assert noise.sd == pytest.approx(pooled_all)


def test_clearly_behind_is_a_one_sided_test_on_the_difference():
    noise = PooledNoise(min_df=1)
    noise.add([0.0, 0.02])  # sd 0.01414
    sd = noise.sd
    margin = 1.645 * sd * math.sqrt(1 / 1 + 1 / 3)
    assert noise.clearly_behind(0.70 - margin - 1e-3, 1, 0.70, 3, 1.645, maximize=True)
    assert not noise.clearly_behind(0.70 - margin + 1e-3, 1, 0.70, 3, 1.645, maximize=True)
    assert noise.clearly_behind(0.30 + margin + 1e-3, 1, 0.30, 3, 1.645, maximize=False)


class SeededScript(ScriptedExecutor):
    """Each trial has `units` seeds: quality(params) + a fixed per-seed offset (sd about 0.01),
    reported one by one; a True answer to a unit event stops the trial there (racing)."""

    OFFSETS = [0.012, -0.010, 0.003, -0.006]

    def __init__(self, units: int):
        super().__init__(capacity=1)
        self.units, self.trained = units, []

    def poll(self, timeout, on_event):
        if not self.running:
            return []
        index, params = self.running.pop()
        quality, results = self.quality(params), []
        for number in range(1, self.units + 1):
            value = quality + self.OFFSETS[number - 1]
            metrics = {"val_roc_auc": value, "val_macro_f1": value, "val_accuracy": value,
                       "val_loss": 1 - value, "best_epoch": 1, "epochs_run": 1}
            proba = np.clip(self.data.y_val * value + 0.2, 0, 1)
            results.append(TrialResult(params, number, metrics, {"loss": [1 - value]},
                                       {"build_s": 0.0, "fit_s": 0.1, "evaluate_s": 0.0,
                                        "total_s": 0.1, "samples_per_s": 1.0}, proba,
                                       self.tiny_model(params)))
            self.trained.append(index)
            if on_event(Event("unit", index, number, name=f"seed {number}",
                              metrics=metrics)):
                break
        result = ObjectiveResult(results, [f"seed {u.seed}" for u in results], self.data.y_val,
                                 np.mean([u.val_proba for u in results], axis=0),
                                 results[0].model, planned_units=self.units)
        return [TrialOutcome(index, result, None, None, {"device": "scripted"}, 0.1)]


def test_a_trial_clearly_behind_is_raced_out_and_told_with_what_it_has(write_experiment,
                                                                        tmp_path):
    experiment = load_experiment(write_experiment(
        objective={"metric": "val_roc_auc", "direction": "maximize", "replicates": 4},
        racing={"enabled": True, "min_df": 3}))
    store = Store(tmp_path / "store", tmp_path)
    executor = SeededScript(units=4)
    summary = run_campaign(experiment, "race", 6, store, executor=executor,
                           progress=lambda m: None)
    assert summary.completed == 6 and summary.raced >= 1
    rows = store.tracker().trial_rows(summary.parent_run_id)
    raced = [r for r in rows if "raced" in r["tags"]]
    assert len(raced) == summary.raced
    saved = sum(int(r["metrics"]["units_saved"]) for r in raced)
    assert saved == summary.units_saved == 6 * 4 - len(executor.trained)
    values = Search.open("race", experiment.space, experiment.objective, experiment.optimizer,
                         experiment.seed, store.ax_db).values("val_roc_auc")
    for row in raced:
        index = int(row["tags"]["ax_trial_index"])
        units = int(row["tags"]["raced"].split()[2])
        assert units < 4 and row["metrics"]["noise_n"] == units
        # told to Ax with the mean of the seeds it trained
        assert values[index] == pytest.approx(row["metrics"]["val_roc_auc"])
        # ... and it was behind: never the winner
        assert row["run_id"] != summary.best["run_id"]
    assert summary.best["metrics"]["noise_n"] == 4
    tags = store.tracker().client.get_run(summary.parent_run_id).data.tags
    assert int(tags["noise_df"]) >= 3 and float(tags["noise_sd_pooled"]) > 0


def test_ax_never_holds_known_and_unknown_noise_together(write_experiment, tmp_path):
    """With 2 seeds a trial the pool needs 3 trials before it claims a noise level: the first
    trials are told the mean alone, then re-told with the pooled standard error, so BoTorch
    (which cannot fit a mix: "Input data contains NaN values") takes over after Sobol."""
    experiment = load_experiment(write_experiment(
        objective={"metric": "val_roc_auc", "direction": "maximize", "replicates": 2},
        optimizer={"initialization_trials": 4}))
    store = Store(tmp_path / "store", tmp_path)
    summary = run_campaign(experiment, "mix", 6, store, executor=SeededScript(units=2),
                           progress=lambda m: None)
    assert summary.completed == 6
    search = Search.open("mix", experiment.space, experiment.objective, experiment.optimizer,
                         experiment.seed, store.ax_db)
    told = search.client._experiment.lookup_data().df
    assert len(told) == 6 and told["sem"].notna().all() and (told["sem"] > 0).all()
    assert "BoTorch" in {t["generation"] for t in search.trials()}
