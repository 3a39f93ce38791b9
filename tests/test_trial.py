"""One trial: metrics, history and timings, seeded determinism, and failures."""

import numpy as np
import pytest

from sentiment_core.trial import TrialFailed, run_trial


def test_run_trial_reports_metrics_history_and_timings(tiny_data, tiny_experiment):
    params = tiny_experiment.space.defaults()
    epochs = []
    result = run_trial(params, tiny_data, seed=3, on_epoch=lambda e, n, logs: epochs.append(e))
    assert epochs == [1]
    assert set(result.metrics) == {"val_accuracy", "val_precision", "val_recall", "val_f1",
                                   "val_macro_f1", "val_roc_auc", "val_loss", "best_epoch",
                                   "epochs_run"}
    assert all(0 <= v <= 1 for k, v in result.metrics.items()
               if k.startswith("val_") and k != "val_loss")
    assert result.metrics["best_epoch"] == result.metrics["epochs_run"] == 1
    assert len(result.history["loss"]) == 1 and len(result.history["val_loss"]) == 1
    assert result.timings["fit_s"] > 0 and result.timings["samples_per_s"] > 0
    assert result.val_proba.shape == tiny_data.y_val.shape


def test_same_seed_gives_bit_identical_metrics(tiny_data, tiny_experiment):
    params = tiny_experiment.space.defaults()
    first = run_trial(params, tiny_data, seed=11)
    second = run_trial(params, tiny_data, seed=11)
    other = run_trial(params, tiny_data, seed=12)
    assert first.metrics == second.metrics  # exact float equality, not approx
    assert np.array_equal(first.val_proba, second.val_proba)
    assert not np.array_equal(first.val_proba, other.val_proba)


def test_impossible_parameters_fail_the_trial(tiny_data, tiny_experiment):
    params = {**tiny_experiment.space.defaults(), "lstm_units": 0}
    with pytest.raises(TrialFailed):
        run_trial(params, tiny_data, seed=0)
