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

import gc
import logging
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .data import PreparedData, bucket_boundaries, cross_validation_folds, token_lengths
from .evaluation import classification_metrics
from .models import (
    TRAINING_OPTIONS,
    build_model,
    fine_tune_model,
    model_inputs,
    seeded,
    train_feature_stats,
)
from .training import (  # noqa: F401 - part of this module's interface
    EpochCallback,
    bucketed_dataset,
    epoch_clock,
    epoch_reporter,
    keep_best_epoch,
    training_callbacks,
)


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


def run_trial(params: dict[str, Any], data: PreparedData, seed: int, family: str = "lstm",
              on_epoch: EpochCallback | None = None,
              start_from: Callable[[], Any] | None = None,
              freeze: list[str] | None = None,
              epoch_metrics: bool = False, validate: bool = True) -> TrialResult:
    """Train one model and score it on the validation split.

    Args:
        params: the tuned and fixed hyperparameters (learning_rate, dropout_rate, lstm_units,
            neurons_dense, num_epochs, batch_size, embedding_size for the seed's LSTM; the
            training options above).
        data: vectorized splits from `data.prepare`.
        seed: seeds Python, NumPy and the backend, and the trial's own generator for Keras's
            layer seeds (`models.seeding`); the same seed and data give bit-identical metrics,
            whatever other threads draw meanwhile.
        family: a name in `models.FAMILIES`.
        on_epoch: called as on_epoch(epoch, num_epochs, logs) after every epoch (progress);
            returning True stops the training there (the result is marked `stopped`).
        epoch_metrics: also score the validation split after every epoch (the objective
            per epoch, for early stopping across trials); costs one prediction per epoch.
        start_from: fine-tuning: returns a fresh copy of the parent model (called after the
            session is cleared); the model is then not built from `family`.
        freeze: fine-tuning: names of the parent's layers to keep fixed.
        validate: False trains exactly `num_epochs` epochs on `data`'s training rows with no
            validation at all (no early stopping, best-epoch restore or ReduceLROnPlateau; no
            val_* metrics): the refit on train + validation (`data.train_plus_validation`).

    Raises:
        TrialFailed: the loss became NaN or the parameters cannot build a model.
    """
    import keras

    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notices per new model
    start = time.perf_counter()
    _clear_session(keras)
    # the trial's Keras seeds come from a generator of its own: Ax generating in another
    # thread (optimizer.prefetch) reseeds and restores Python's global one
    with seeded(seed):
        return _train(params, data, seed, family, on_epoch, start_from, freeze, epoch_metrics,
                      start, validate)


def _clear_session(keras) -> None:
    """Drop the previous trial's Keras state. Its full garbage collection scanned every object
    the imports left (TensorFlow, Ax, torch: 0.4-0.75 s a trial); the first trial in a process
    freezes those (gc.freeze), so later collections scan only what trials made."""
    global _imports_frozen
    if not _imports_frozen:
        gc.collect()
        gc.freeze()
        _imports_frozen = True
    keras.backend.clear_session()


_imports_frozen = False


def _train(params: dict[str, Any], data: PreparedData, seed: int, family: str,
           on_epoch: EpochCallback | None, start_from: Callable[[], Any] | None,
           freeze: list[str] | None, epoch_metrics: bool, start: float,
           validate: bool = True) -> TrialResult:
    import keras

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
    x_val = fold_inputs(model_inputs(model, data.x_val, vocab_size), data.token_keep)
    if validate:
        best_epoch, callbacks = training_callbacks(keras, params, (x_val, data.y_val))
    else:  # a fixed epoch count: nothing watches a validation split
        best_epoch, callbacks = None, [keras.callbacks.TerminateOnNaN()]
    reporter = None
    if on_epoch:
        reporter = epoch_reporter(keras, on_epoch, epochs,
                                  (x_val, data.y_val) if epoch_metrics else None, batch_size,
                                  len(data.class_names) == 2)
        callbacks.append(reporter)
    clock = epoch_clock(keras)
    callbacks.insert(0, clock)
    # the validation loss (early stopping's judge) weighs classes as training does
    val_weight = np.vectorize(weights.get)(data.y_val).astype("float32") \
        if weights and validate else None
    x_train = fold_inputs(model_inputs(model, data.x_train, vocab_size), data.token_keep)
    if buckets:
        lengths = token_lengths(data.x_train)
        boundaries = bucket_boundaries(lengths, data.sequence_length, buckets)
        train_weight = np.vectorize(weights.get)(data.y_train).astype("float32") \
            if weights else None
        train = bucketed_dataset(keras, x_train, data.y_train, train_weight, lengths,
                                 boundaries, batch_size, seed)
        validation = bucketed_dataset(keras, x_val, data.y_val, val_weight,
                                      token_lengths(data.x_val), boundaries,
                                      max(batch_size, 1024), seed, shuffle=False) \
            if validate else None
        fit = model.fit(train, validation_data=validation,
                        epochs=epochs, verbose=0, callbacks=callbacks)
    else:
        validation = (x_val, data.y_val) + ((val_weight,) if weights else ()) \
            if validate else None
        fit = model.fit(x_train, data.y_train, validation_data=validation,
                        epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0,
                        callbacks=callbacks, class_weight=weights)
    fitted = time.perf_counter()
    if data.token_keep is not None:
        forget_unknown_tokens(model, data.token_keep)
    history = {k: [float(v) for v in values] for k, values in fit.history.items()}
    losses = history.get("loss", [])
    if not losses or any(math.isnan(v) for v in losses):
        raise TrialFailed("the training loss became NaN")
    if not validate:
        trained = len(data.y_train) * len(losses)
        metrics = {"best_epoch": len(losses), "epochs_run": len(losses)}
        timings = {"build_s": built - start, "fit_s": fitted - built,
                   "total_s": fitted - start, "samples_per_s": trained / max(fitted - built,
                                                                           1e-9)}
        return TrialResult(dict(params), seed, metrics, history, timings,
                           np.empty((0,)), model)
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


def fold_inputs(inputs, keep: np.ndarray | None):
    """A fold's model inputs: token ids outside its own vocabulary (`keep`, from its fit rows)
    read as out-of-vocabulary (1). The engineered features stay those of the full ids, as the
    fold ensemble computes them at prediction time."""
    if keep is None:
        return inputs
    if isinstance(inputs, dict):
        return {**inputs, "tokens": np.where(keep[inputs["tokens"]], inputs["tokens"], 1)}
    return np.where(keep[inputs], inputs, 1)


def forget_unknown_tokens(model, keep: np.ndarray) -> None:
    """After a fold's training: every embedding row of a token outside its vocabulary becomes
    the out-of-vocabulary row, so the model reads full ids (the ensemble's, the test split's)
    exactly as it read its own masked ones in training."""
    import keras

    def layers(outer):
        for layer in outer.layers:
            yield layer
            if hasattr(layer, "layers"):  # a nested model
                yield from layers(layer)

    for layer in layers(model):
        if isinstance(layer, keras.layers.Embedding) and layer.input_dim == len(keep):
            table = np.array(layer.embeddings.numpy())
            table[~keep] = table[1]
            layer.embeddings.assign(table)


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
    planned_units: int = 0  # folds x replicates; more than len(units) when cut short

    @property
    def raced(self) -> bool:
        """The campaign stopped it after a unit (racing): fewer units than planned."""
        return not self.stopped and len(self.units) < self.planned_units

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
    `on_unit(i, name, result)` is called after each unit (logging per fold or seed; True stops
    the trial there: racing). A unit stopped through `on_epoch` ends the trial too: no further
    unit is trained."""
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
            # on_unit returning True: the campaign raced this trial out (no further unit)
            raced = bool(on_unit and on_unit(len(units), names[-1], result) is True)
            if result.stopped or raced:
                break
        cut = units[-1].stopped or raced
        fold_units = units[len(truths) * replicates:] if cut else units[-replicates:]
        truths.append(view.y_val)
        probas.append(np.mean([u.val_proba for u in fold_units], axis=0))
        if cut:
            break
    return ObjectiveResult(units, names, np.concatenate(truths), np.concatenate(probas),
                           average_models([u.model for u in units]),
                           planned_units=len(views) * replicates)


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
