"""What wraps a Keras `fit` in a trial: the best-epoch keeper (early stopping and checkpoint in
one), the training callbacks the parameters ask for, the per-epoch reporter that streams a
trial's epochs to its campaign, the clock that splits fit time, and length-bucketed batches."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .data import bucketed_batches
from .evaluation import classification_metrics
from .models import TRAINING_OPTIONS

# on_epoch(epoch, num_epochs, logs) after every epoch; a return value of True stops the training
# after this epoch (Ax's early-stopping verdict reaches the trial this way).
EpochCallback = Callable[[int, int, dict[str, float]], "bool | None"]


def keep_best_epoch(keras, patience: int | None, monitor: str = "val_loss",
                    validation: tuple[Any, np.ndarray] | None = None):
    """One callback for early stopping and the best-epoch checkpoint: tracks the best value of
    `monitor` — the validation loss, or a validation score from `classification_metrics`
    (`val_macro_f1`, `val_roc_auc`, ...: computed on `validation` = (model inputs, labels) each
    epoch, a judge that matches the objective) — stops after `patience` epochs without improvement
    (never if None), and always restores the best epoch's weights at the end (Keras's
    EarlyStopping restores them only when it stopped early)."""
    sign = 1.0 if monitor.endswith("loss") else -1.0  # lower is better after the sign

    def current(model, logs) -> float:
        if monitor in logs:
            return sign * logs[monitor]
        proba = model.predict(validation[0], batch_size=2048, verbose=0)
        return sign * classification_metrics(validation[1], proba)[monitor.removeprefix("val_")]

    class KeepBestEpoch(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.best, self.best_epoch, self.weights, self.wait = math.inf, 0, None, 0

        def on_epoch_end(self, epoch, logs=None):
            value = current(self.model, logs or {})
            if logs is not None:  # later callbacks (the progress line, the history) see it
                logs.setdefault(monitor, sign * value)
            if value < self.best:
                self.best, self.best_epoch, self.wait = value, epoch + 1, 0
                self.weights = self.model.get_weights()
                return
            self.wait += 1
            if patience and self.wait >= patience:
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            if self.weights is not None:
                self.model.set_weights(self.weights)

    return KeepBestEpoch()


def training_callbacks(keras, params: dict[str, Any], validation: tuple[Any, np.ndarray]):
    """TerminateOnNaN, the best-epoch keeper, and ReduceLROnPlateau when asked for."""
    options = {**TRAINING_OPTIONS, **params}
    best_epoch = keep_best_epoch(keras, int(options["early_stopping_patience"]) or None,
                                 str(options["early_stopping_monitor"]), validation)
    callbacks = [keras.callbacks.TerminateOnNaN(), best_epoch]
    if int(options["reduce_lr_patience"]) > 0:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=float(options["reduce_lr_factor"]),
            patience=int(options["reduce_lr_patience"]),
            min_lr=float(options["min_learning_rate"])))
    return best_epoch, callbacks


def epoch_reporter(keras, on_epoch: EpochCallback, epochs: int,
                   validation: tuple[Any, np.ndarray] | None, batch_size: int, binary: bool):
    """Calls on_epoch after each epoch; with `validation` = (model inputs, labels), adds the
    validation classification metrics
    of the epoch's weights (val_macro_f1, val_roc_auc, ...) to the logs, so a campaign can
    report its objective per epoch. on_epoch returning True stops the training."""

    class EpochReporter(keras.callbacks.Callback):
        stopped = False

        def on_epoch_end(self, epoch, logs=None):
            logs = {k: float(v) for k, v in (logs or {}).items()}
            if validation is not None:
                proba = np.asarray(self.model.predict(validation[0],
                                                      batch_size=max(batch_size, 1024),
                                                      verbose=0))
                scores = classification_metrics(validation[1],
                                                proba.reshape(-1) if binary else proba)
                logs.update({f"val_{k}": v for k, v in scores.items()})
            if on_epoch(epoch + 1, epochs, logs) is True and epoch + 1 < epochs:
                self.stopped = True
                self.model.stop_training = True

    return EpochReporter()


def epoch_clock(keras):
    """Splits fit time into training and validation: `train_s` sums each epoch's time from its
    start to the start of its validation pass (or its end, without one)."""

    class EpochClock(keras.callbacks.Callback):
        train_s = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.began, self.validating = time.perf_counter(), False

        def on_test_begin(self, logs=None):
            if not self.validating and hasattr(self, "began"):
                self.train_s += time.perf_counter() - self.began
                self.validating = True

        def on_epoch_end(self, epoch, logs=None):
            self.on_test_begin()

    return EpochClock()


def bucketed_dataset(keras, inputs, y: np.ndarray, sample_weight: np.ndarray | None,
                     lengths: np.ndarray, boundaries: list[int], batch_size: int, seed: int,
                     shuffle: bool = True):
    """A Keras PyDataset of length-bucketed batches (`data.bucketed_batches`): each batch's
    token ids trimmed to its bucket length, features (if any) as they are; reshuffled every
    epoch from `seed`, so a trial stays bit-reproducible."""

    def trim(rows, length):
        if isinstance(inputs, dict):
            return {k: v[rows, :length] if k == "tokens" else v[rows] for k, v in inputs.items()}
        return inputs[rows, :length]

    class Bucketed(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.on_epoch_end()

        def __len__(self):
            return len(self.batches)

        def __getitem__(self, i):
            rows, length = self.batches[i]
            if sample_weight is None:
                return trim(rows, length), y[rows]
            return trim(rows, length), y[rows], sample_weight[rows]

        def on_epoch_end(self):
            batches = bucketed_batches(lengths, boundaries, batch_size, self.rng)
            if not shuffle:
                batches.sort(key=lambda b: b[1])
            # Keras reads the data's shapes from the first two batches: if their lengths
            # differed not, it would fix the length to the first bucket's
            other = next((i for i, b in enumerate(batches) if b[1] != batches[0][1]), None)
            if other is not None:
                batches.insert(1, batches.pop(other))
            self.batches = batches

    return Bucketed()
