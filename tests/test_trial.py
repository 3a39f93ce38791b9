import ast
from pathlib import Path

import numpy as np
import pytest

from sentiment_core.data import PreparedData
from sentiment_core.trial import TrialFailed, run_trial

PACKAGE = Path(__file__).resolve().parents[1] / "sentiment_core"


def test_masked_lstm_learns_a_signal_at_the_start_of_short_padded_sequences():
    # Token 2 or 3 opens a 3-6 token sequence that is then padded with 30+ zeros: only masking
    # lets the LSTM's final state still remember the first token.
    rng = np.random.default_rng(0)
    n, length = 1200, 40
    y = rng.integers(0, 2, n)
    x = np.zeros((n, length), np.int32)
    for i in range(n):
        size = rng.integers(3, 7)
        x[i, :size] = rng.integers(4, 50, size)
        x[i, 0] = 2 + y[i]
    vocab = ["", "[UNK]"] + [f"t{i}" for i in range(2, 50)]
    data = PreparedData(x[:900], y[:900], x[900:], y[900:], x[900:], y[900:], vocab,
                        ["negative", "positive"], "synthetic")
    params = {"learning_rate": 0.01, "dropout_rate": 0.0, "lstm_units": 8, "neurons_dense": 8,
              "num_epochs": 6, "batch_size": 32, "embedding_size": 8}
    result = run_trial(params, data, seed=0)
    assert result.metrics["val_accuracy"] > 0.95, result.metrics


def test_run_trial_reports_metrics_history_and_timings(tiny_data, tiny_experiment):
    params = tiny_experiment.space.defaults()
    epochs = []
    result = run_trial(params, tiny_data, seed=3, on_epoch=lambda e, n, logs: epochs.append(e))
    assert epochs == [1]
    assert set(result.metrics) == {"val_accuracy", "val_precision", "val_recall", "val_f1",
                                   "val_macro_f1", "val_roc_auc", "val_loss", "best_epoch",
                                   "epochs_run"}
    assert all(0 <= v <= 1 for k, v in result.metrics.items()
               if k not in ("val_loss", "best_epoch", "epochs_run"))
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


@pytest.mark.parametrize("module", ["trial.py", "models/registry.py", "data/pipeline.py",
                                    "data/vectorization.py", "config.py",
                                    "evaluation/metrics.py"])
def test_core_modules_import_neither_ax_nor_mlflow(module):
    tree = ast.parse((PACKAGE / module).read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
             for a in n.names}
    names |= {(n.module or "").split(".")[0] for n in ast.walk(tree)
              if isinstance(n, ast.ImportFrom)}
    assert not names & {"ax", "mlflow", "ray"}
