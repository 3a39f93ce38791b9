"""One training trial: a pure function of (params, prepared data, seed).

    result = run_trial(params, data, seed=0)
    result.metrics["val_macro_f1"], result.history["val_loss"], result.timings["fit_s"]
    noisy = run_objective(params, data, seed=0, folds=5)     # K folds and/or R seeds
    noisy.mean["val_macro_f1"], noisy.sem("val_macro_f1")

`run_trial` seeds everything, builds the family's model, fits, and evaluates on the validation
split. `run_objective` repeats it over cross-validation folds of train + validation and/or over
seeds, so a trial's value is a mean with a standard error rather than one lucky run. Neither
imports Ax or MLflow; campaigns and tracking wrap them from outside. The test split is never
touched here.

Training options read from the parameters (fixed or tuned in the search space; defaults in
`models.TRAINING_OPTIONS`): `class_weight` (none | balanced; the validation loss is weighted
alike), `early_stopping_patience` (epochs without a better monitored value before stopping; 0 or
absent: run every epoch), `early_stopping_monitor` (val_loss, or a validation score such as
val_macro_f1: the validation loss of a class-weighted model rises from the first epoch while
its F1 still climbs),
`reduce_lr_patience` / `reduce_lr_factor` / `min_learning_rate` (ReduceLROnPlateau on the
validation loss; patience 0: off), `label_smoothing`, `length_buckets` (N > 0: batches of
similar-length rows trimmed to N fixed bucket lengths, `data.batching`; 0: every batch padded to
the full sequence length). The weights of the best epoch are always
restored (`keep_best_epoch`, the one early-stopping and best-epoch-checkpoint
mechanism), so `num_epochs` is a maximum and `best_epoch` records what was used.

Fine-tuning: `run_trial(..., start_from=load_parent, freeze=["embedding"])` trains a copy of a
parent model (its vocabulary must be the one `data` was vectorized with) instead of building one.
"""

from __future__ import annotations

import logging
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .data import PreparedData, bucket_boundaries, bucketed_batches, cross_validation_folds, \
    token_lengths
from .evaluation import classification_metrics
from .models import (
    TRAINING_OPTIONS,
    build_model,
    fine_tune_model,
    model_inputs,
    train_feature_stats,
)

# on_epoch(epoch, num_epochs, logs) after every epoch; a return value of True stops the training
# after this epoch (Ax's early-stopping verdict reaches the trial this way).
EpochCallback = Callable[[int, int, dict[str, float]], "bool | None"]


class TrialFailed(RuntimeError):
    """The trial ran but produced no usable model (NaN loss, impossible parameters)."""


@dataclass
class TrialResult:
    params: dict[str, Any]
    seed: int
    metrics: dict[str, float]  # val_* metrics, best_epoch, epochs_run
    history: dict[str, list[float]]  # per epoch: loss, binary_accuracy, val_loss, ...
    timings: dict[str, float]  # build_s, fit_s, evaluate_s, total_s, samples_per_s
    val_proba: np.ndarray = field(repr=False)
    model: Any = field(default=None, repr=False, compare=False)
    stopped: bool = False  # on_epoch asked to stop (early stopping across trials)


def class_weights(y: np.ndarray, mode: str) -> dict[int, float] | None:
    """`balanced`: n / (k * count(class)), scikit-learn's definition; `none`: no weights."""
    if mode == "none":
        return None
    if mode != "balanced":
        raise TrialFailed(f"class_weight must be none or balanced, got {mode!r}")
    from sklearn.utils.class_weight import compute_class_weight

    classes = np.unique(y)
    return dict(zip(classes.tolist(), compute_class_weight("balanced", classes=classes, y=y)))


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


def run_trial(params: dict[str, Any], data: PreparedData, seed: int, family: str = "lstm",
              on_epoch: EpochCallback | None = None,
              start_from: Callable[[], Any] | None = None,
              freeze: list[str] | None = None,
              epoch_metrics: bool = False) -> TrialResult:
    """Train one model and score it on the validation split.

    Args:
        params: the tuned and fixed hyperparameters (learning_rate, dropout_rate, lstm_units,
            neurons_dense, num_epochs, batch_size, embedding_size for the seed's LSTM; the
            training options above).
        data: vectorized splits from `data.prepare`.
        seed: seeds Python, NumPy and the backend; the same seed and data give bit-identical
            metrics.
        family: a name in `models.FAMILIES`.
        on_epoch: called as on_epoch(epoch, num_epochs, logs) after every epoch (progress);
            returning True stops the training there (the result is marked `stopped`).
        epoch_metrics: also score the validation split after every epoch (the objective
            per epoch, for early stopping across trials); costs one prediction per epoch.
        start_from: fine-tuning: returns a fresh copy of the parent model (called after the
            session is cleared); the model is then not built from `family`.
        freeze: fine-tuning: names of the parent's layers to keep fixed.

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
    weights = class_weights(data.y_train, str(params.get("class_weight", "none")))
    # fine-tuning keeps the parent's input length: bucketing applies to models built here
    buckets = 0 if start_from else int(params.get("length_buckets",
                                                  TRAINING_OPTIONS["length_buckets"]))
    vocab_size = len(data.vocabulary)
    try:
        if start_from is not None:
            model = fine_tune_model(start_from(), list(freeze or []), params,
                                    len(data.class_names))
        else:
            # bucketed batches vary in length: the model then takes any sequence length
            model = build_model(family, params, vocab_size,
                                None if buckets else data.sequence_length,
                                len(data.class_names),
                                train_feature_stats(family, data.x_train, vocab_size),
                                vocabulary=data.vocabulary, train_ids=data.x_train,
                                train_labels=data.y_train)
    except (ValueError, KeyError) as err:
        raise TrialFailed(f"cannot build the model: {err}") from err
    built = time.perf_counter()
    x_val = model_inputs(model, data.x_val, vocab_size)
    best_epoch, callbacks = training_callbacks(keras, params, (x_val, data.y_val))
    reporter = None
    if on_epoch:
        reporter = epoch_reporter(keras, on_epoch, epochs,
                                  (x_val, data.y_val) if epoch_metrics else None, batch_size,
                                  len(data.class_names) == 2)
        callbacks.append(reporter)
    clock = epoch_clock(keras)
    callbacks.insert(0, clock)
    # the validation loss (early stopping's judge) weighs classes as training does
    val_weight = np.vectorize(weights.get)(data.y_val).astype("float32") if weights else None
    x_train = model_inputs(model, data.x_train, vocab_size)
    if buckets:
        lengths = token_lengths(data.x_train)
        boundaries = bucket_boundaries(lengths, data.sequence_length, buckets)
        train_weight = np.vectorize(weights.get)(data.y_train).astype("float32") \
            if weights else None
        train = bucketed_dataset(keras, x_train, data.y_train, train_weight, lengths,
                                 boundaries, batch_size, seed)
        validation = bucketed_dataset(keras, x_val, data.y_val, val_weight,
                                      token_lengths(data.x_val), boundaries,
                                      max(batch_size, 1024), seed, shuffle=False)
        fit = model.fit(train, validation_data=validation, epochs=epochs, verbose=0,
                        callbacks=callbacks)
    else:
        validation = (x_val, data.y_val) + ((val_weight,) if weights else ())
        fit = model.fit(x_train, data.y_train, validation_data=validation,
                        epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0,
                        callbacks=callbacks, class_weight=weights)
    fitted = time.perf_counter()
    history = {k: [float(v) for v in values] for k, values in fit.history.items()}
    losses = history.get("loss", [])
    if not losses or any(math.isnan(v) for v in losses):
        raise TrialFailed("the training loss became NaN")
    val_proba = model.predict(x_val, batch_size=max(batch_size, 1024), verbose=0)
    metrics = {f"val_{k}": v for k, v in classification_metrics(data.y_val, val_proba).items()}
    metrics["val_loss"] = history["val_loss"][best_epoch.best_epoch - 1]
    metrics["best_epoch"], metrics["epochs_run"] = best_epoch.best_epoch, len(losses)
    done = time.perf_counter()
    trained = len(data.y_train) * len(losses)
    timings = {
        "build_s": built - start, "fit_s": fitted - built, "evaluate_s": done - fitted,
        "total_s": done - start, "train_s": clock.train_s,
        "validation_s": fitted - built - clock.train_s,  # per-epoch validation and callbacks
        "samples_per_s": trained / max(fitted - built, 1e-9),
        "train_samples_per_s": trained / max(clock.train_s, 1e-9),  # fit alone
    }
    return TrialResult(dict(params), seed, metrics, history, timings,
                       _squeeze(val_proba, data), model,
                       stopped=bool(reporter is not None and reporter.stopped))


def _squeeze(proba, data: PreparedData) -> np.ndarray:
    proba = np.asarray(proba)
    return proba.reshape(len(proba), -1).squeeze(-1) if len(data.class_names) == 2 else proba


# ---- the noise-aware objective ---------------------------------------------------------------


@dataclass
class ObjectiveResult:
    """A trial repeated over folds and/or seeds ("units"): mean, spread and the units."""

    units: list[TrialResult]
    unit_names: list[str]  # "fold 1", "seed 8", "fold 2 seed 8", ...
    val_true: np.ndarray  # the labels `val_proba` refers to (held-out rows of every unit)
    val_proba: np.ndarray  # out-of-fold probabilities (folds) or the seeds' mean (replicates)
    model: Any = field(default=None, repr=False)  # the units' models averaged: one Keras model

    @property
    def stopped(self) -> bool:
        """Early stopping across trials ended a unit before its last epoch (no further units
        were trained)."""
        return any(u.stopped for u in self.units)

    @property
    def mean(self) -> dict[str, float]:
        return {k: statistics.fmean(u.metrics[k] for u in self.units)
                for k in self.units[0].metrics}

    def sd(self, metric: str) -> float:
        values = [u.metrics[metric] for u in self.units]
        return statistics.stdev(values) if len(values) > 1 else 0.0

    def sem(self, metric: str) -> float:
        """Standard error of the mean over units: sd / sqrt(K); what Ax is told as noise."""
        return self.sd(metric) / math.sqrt(len(self.units))

    @property
    def timings(self) -> dict[str, float]:
        return {k: (statistics.fmean if k.endswith("_per_s") else sum)(u.timings[k]
                                                                        for u in self.units)
                for k in self.units[0].timings}  # seconds add up, rates average


def run_objective(params: dict[str, Any], data: PreparedData, seed: int, family: str = "lstm",
                  folds: int = 1, replicates: int = 1, on_epoch: EpochCallback | None = None,
                  on_unit: Callable[[int, str, TrialResult], None] | None = None,
                  start_from: Callable[[], Any] | None = None,
                  freeze: list[str] | None = None,
                  epoch_metrics: bool = False) -> ObjectiveResult:
    """`run_trial` over K grouped folds of train + validation (folds > 1) and/or R seeds
    (seed, seed + 1, ...). With folds = replicates = 1 it is one `run_trial` on the fixed split.
    `on_unit(i, name, result)` is called after each unit (logging per fold or seed). A unit
    stopped through `on_epoch` ends the trial: no further unit is trained."""
    views = cross_validation_folds(data, folds, seed) if folds > 1 else [data]
    units, names, truths, probas = [], [], [], []
    for f, view in enumerate(views, start=1):
        for r in range(replicates):
            name = " ".join(filter(None, [f"fold {f}" if folds > 1 else "",
                                          f"seed {seed + r}" if replicates > 1 else ""]))
            result = run_trial(params, view, seed + r, family, on_epoch, start_from, freeze,
                               epoch_metrics)
            units.append(result)
            names.append(name or f"seed {seed}")
            if on_unit:
                on_unit(len(units), names[-1], result)
            if result.stopped:
                break
        fold_units = units[-replicates:] if not units[-1].stopped else \
            units[len(truths) * replicates:]
        truths.append(view.y_val)
        probas.append(np.mean([u.val_proba for u in fold_units], axis=0))
        if units[-1].stopped:
            break
    return ObjectiveResult(units, names, np.concatenate(truths), np.concatenate(probas),
                           average_models([u.model for u in units]))


def average_models(models: list[Any]):
    """One Keras model whose output is the mean of `models`' outputs (saved and loaded as one
    .keras file); the model itself when there is one. The ensemble takes the members' inputs
    under the same names (`tokens`, and `features` for a feature family)."""
    if len(models) == 1:
        return models[0]
    import keras

    first = models[0].inputs
    named = first if isinstance(first, dict) else {t.name: t for t in first}
    inputs = {name: keras.Input(shape=t.shape[1:], dtype=t.dtype, name=name)
              for name, t in named.items()}
    feed = inputs if len(inputs) > 1 else next(iter(inputs.values()))
    for i, model in enumerate(models):
        model.name = f"member_{i}"  # names must be unique inside the outer model
    return keras.Model(feed, keras.layers.Average()([m(feed) for m in models]),
                       name="average_of_" + str(len(models)))
