"""One trial: metrics, history and timings, seeded determinism, and failures."""

import numpy as np
import pytest

from sentiment_core.trial import TrialFailed, run_trial

from conftest import LSTM


@pytest.fixture
def tiny_experiment(write_experiment):
    """These tests train the seed's LSTM itself (run_trial's default family)."""
    from sentiment_core.experiments import load_experiment

    return load_experiment(write_experiment(**LSTM))


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


def test_bucketed_batches_predict_what_fixed_padding_predicts(tiny_data, tiny_experiment):
    """A masked model gives the same outputs on rows trimmed to their bucket as on the padded
    rows (what makes bucketing a speed option, not a different model)."""
    import keras

    from sentiment_core.data import bucket_boundaries, token_lengths
    from sentiment_core.models import build_model
    from sentiment_core.trial import bucketed_dataset

    params = tiny_experiment.space.defaults()
    x, y = tiny_data.x_val, tiny_data.y_val
    model = build_model("lstm", params, len(tiny_data.vocabulary), None)
    padded = model.predict(x, verbose=0).reshape(-1)
    lengths = token_lengths(x)
    boundaries = bucket_boundaries(lengths, x.shape[1], 3)
    assert len(boundaries) > 1 and min(boundaries) < x.shape[1]
    dataset = bucketed_dataset(keras, x, y, None, lengths, boundaries, 8, seed=0)
    bucketed = np.zeros(len(y))
    for rows, length in dataset.batches:
        bucketed[rows] = model.predict(x[rows, :length], verbose=0).reshape(-1)
    np.testing.assert_allclose(bucketed, padded, rtol=1e-5, atol=1e-6)


def test_a_bucketed_trial_trains_reproducibly(tiny_data, tiny_experiment):
    params = {**tiny_experiment.space.defaults(), "length_buckets": 3,
              "class_weight": "balanced"}
    first = run_trial(params, tiny_data, seed=5)
    second = run_trial(params, tiny_data, seed=5)
    assert first.metrics == second.metrics
    assert 0 < first.timings["train_s"] <= first.timings["fit_s"]
    assert first.timings["train_samples_per_s"] >= first.timings["samples_per_s"]


def test_each_epoch_reports_the_monitored_validation_score(tiny_data, tiny_experiment):
    """The progress line shows what early stopping watches (here macro F1, which the epoch's
    logs do not carry by themselves), not only the validation loss."""
    params = {**tiny_experiment.space.defaults(), "num_epochs": 2,
              "early_stopping_monitor": "val_macro_f1", "early_stopping_patience": 5}
    seen = []
    result = run_trial(params, tiny_data, seed=3,
                       on_epoch=lambda e, n, logs: seen.append(dict(logs)))
    assert [("val_macro_f1" in logs, "val_loss" in logs) for logs in seen] == [(True, True)] * 2
    assert len(result.history["val_macro_f1"]) == 2  # the history keeps it too


def test_the_progress_line_names_the_monitored_metric_and_the_objective(tiny_experiment):
    from types import SimpleNamespace

    from sentiment_core.campaign.engine.scheduler import Scheduler
    from sentiment_core.campaign.execution.protocol import Event

    space = SimpleNamespace(fixed={"early_stopping_monitor": "val_macro_f1"})
    record = SimpleNamespace(units=2, metric="val_roc_auc",
                             experiment=SimpleNamespace(space=space))
    line = Scheduler._epoch_line(SimpleNamespace(record=record), Event(
        "epoch", 3, 1, 2, 5, {"loss": 0.5, "val_loss": 0.7, "val_macro_f1": 0.61,
                              "val_roc_auc": 0.8}))
    assert line == ("  trial 3 unit 1/2 epoch 2/5  loss 0.5000  val_macro_f1 0.6100  "
                    "val_roc_auc 0.8000")
