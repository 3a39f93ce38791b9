"""One training trial: a pure function of (params, prepared data, seed).

    result = run_trial(params, data, seed=0)
    result.metrics["val_macro_f1"], result.history["val_loss"], result.timings["fit_s"]

It seeds everything, builds the family's model, fits, and evaluates on the validation split.
It imports neither Ax nor MLflow; campaigns and tracking wrap it from outside. The test split is
never touched here.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .data import PreparedData
from .evaluation import classification_metrics
from .models import build_model

class TrialFailed(RuntimeError):
    """The trial ran but produced no usable model (NaN loss, impossible parameters)."""


@dataclass
class TrialResult:
    params: dict[str, Any]
    seed: int
    metrics: dict[str, float]  # val_* metrics
    history: dict[str, list[float]]  # per epoch: loss, binary_accuracy, val_loss, ...
    timings: dict[str, float]  # build_s, fit_s, evaluate_s, total_s, samples_per_s
    val_proba: np.ndarray = field(repr=False)
    model: Any = field(default=None, repr=False, compare=False)


def run_trial(params: dict[str, Any], data: PreparedData, seed: int, family: str = "lstm",
              on_epoch: Callable[[int, int, dict[str, float]], None] | None = None) -> TrialResult:
    """Train one model and score it on the validation split.

    Args:
        params: the tuned and fixed hyperparameters (learning_rate, dropout_rate, lstm_units,
            neurons_dense, num_epochs, batch_size, embedding_size for the seed's LSTM).
        data: vectorized splits from `data.prepare`.
        seed: seeds Python, NumPy and the backend; the same seed and data give bit-identical
            metrics.
        family: a name in `models.FAMILIES`.
        on_epoch: called as on_epoch(epoch, num_epochs, logs) after every epoch (progress).

    Raises:
        TrialFailed: the loss became NaN or the parameters cannot build a model.
    """
    import keras

    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notices per new model
    start = time.perf_counter()
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    epochs, batch_size = int(params["num_epochs"]), int(params["batch_size"])
    if epochs < 1 or batch_size < 1:
        raise TrialFailed(f"num_epochs and batch_size must be >= 1 (got {epochs}, {batch_size})")
    try:
        model = build_model(family, params, len(data.vocabulary), data.sequence_length,
                            len(data.class_names))
    except ValueError as err:
        raise TrialFailed(f"cannot build the model: {err}") from err
    built = time.perf_counter()
    callbacks = [keras.callbacks.TerminateOnNaN()]
    if on_epoch:
        callbacks.append(keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: on_epoch(epoch + 1, epochs, dict(logs or {}))))
    fit = model.fit(data.x_train, data.y_train, validation_data=(data.x_val, data.y_val),
                    epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0,
                    callbacks=callbacks)
    fitted = time.perf_counter()
    history = {k: [float(v) for v in values] for k, values in fit.history.items()}
    if any(math.isnan(v) for v in history.get("loss", [])) or len(history.get("loss", [])) < epochs:
        raise TrialFailed("the training loss became NaN")
    val_proba = model.predict(data.x_val, batch_size=max(batch_size, 1024), verbose=0)
    metrics = {f"val_{k}": v for k, v in classification_metrics(data.y_val, val_proba).items()}
    metrics["val_loss"] = history["val_loss"][-1]
    done = time.perf_counter()
    timings = {
        "build_s": built - start, "fit_s": fitted - built, "evaluate_s": done - fitted,
        "total_s": done - start,
        "samples_per_s": len(data.y_train) * epochs / max(fitted - built, 1e-9),
    }
    return TrialResult(dict(params), seed, metrics, history, timings,
                       np.asarray(val_proba).reshape(len(data.y_val), -1).squeeze(-1)
                       if len(data.class_names) == 2 else np.asarray(val_proba), model)
