"""Small Keras pieces the families need that Keras lacks, registered for safe `.keras` loading.

Imported on first use (it imports Keras), never by `sentiment_core.models` itself, so loading an
experiment stays free of TensorFlow. `custom_objects()` names them for `keras.saving.load_model`.

- MaskedGlobalPooling1D: max or mean over the time steps the mask keeps. Keras's
  GlobalMaxPooling1D drops the mask with a warning, so end padding would enter the max.
- SparseCrossentropyWithSmoothing: label smoothing for integer labels and a softmax output
  (Keras's SparseCategoricalCrossentropy has no label_smoothing).
- TokenNgrams, DropOovColumn: the unigram and bigram codes of token ids, and a lookup's output
  without its out-of-vocabulary column, for the wide part of `wide_deep`.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

PACKAGE = "sentiment_core"


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskedGlobalPooling1D(keras.layers.Layer):
    """(batch, steps, features) -> (batch, features): the max or mean over unmasked steps.

    A row whose every step is masked (an empty text) pools to zeros."""

    def __init__(self, mode: str = "max", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("max", "average"):
            raise ValueError(f"mode must be max or average, got {mode!r}")
        self.mode = mode
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.max(inputs, axis=1) if self.mode == "max" else ops.mean(inputs, axis=1)
        keep = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)  # (batch, steps, 1)
        count = ops.sum(keep, axis=1)  # (batch, 1)
        if self.mode == "average":
            return ops.sum(inputs * keep, axis=1) / ops.maximum(count, 1.0)
        lowest = ops.cast(ops.min(inputs) - 1.0, inputs.dtype)  # below every kept value
        pooled = ops.max(ops.where(keep > 0, inputs, lowest), axis=1)
        return ops.where(count > 0, pooled, ops.zeros_like(pooled))

    def compute_mask(self, inputs, mask=None):
        return None  # the time axis is gone

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package=PACKAGE)
class SparseCrossentropyWithSmoothing(keras.losses.Loss):
    """Categorical cross-entropy on one-hot(integer labels), smoothed like Keras's
    CategoricalCrossentropy(label_smoothing=...)."""

    def __init__(self, label_smoothing: float = 0.0, name: str = "sparse_crossentropy_smoothed",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        classes = y_pred.shape[-1]
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        one_hot = ops.one_hot(labels, classes, dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(one_hot, y_pred,
                                                     label_smoothing=self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


@keras.saving.register_keras_serializable(package=PACKAGE)
class TokenNgrams(keras.layers.Layer):
    """(batch, steps) token ids -> (batch, 2 * steps - 1) int64 word n-gram codes: each
    unigram's id, then each bigram's (first + 1) * vocab_size + second (never a unigram's
    code); 0 wherever padding or an `ignore`d id takes part (IntegerLookup's mask token:
    dropped)."""

    def __init__(self, vocab_size: int, ignore: list[int] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = int(vocab_size)
        self.ignore = [int(i) for i in ignore or []]

    def call(self, ids):
        ids = ops.cast(ids, "int64")
        if self.ignore:  # ids * keep[ids]: a table lookup (ops.isin fails in a TF graph)
            keep = np.ones(self.vocab_size, np.int64)
            keep[self.ignore] = 0
            ids = ids * ops.take(ops.convert_to_tensor(keep), ids)
        first, second = ids[:, :-1], ids[:, 1:]
        bigrams = ops.where(ops.logical_and(first > 0, second > 0),
                            (first + 1) * self.vocab_size + second, ops.zeros_like(first))
        return ops.concatenate([ids, bigrams], axis=1)

    def compute_output_spec(self, ids):
        steps = ids.shape[1]
        return keras.KerasTensor((ids.shape[0], None if steps is None else 2 * steps - 1),
                                 dtype="int64")

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "ignore": self.ignore}


@keras.saving.register_keras_serializable(package=PACKAGE)
class DropOovColumn(keras.layers.Layer):
    """(batch, 1 + n) -> (batch, n): IntegerLookup's multi-hot/tf-idf output without its
    out-of-vocabulary column (n-grams outside the fitted ones count for nothing, as in
    scikit-learn's TfidfVectorizer)."""

    def call(self, inputs):
        return inputs[:, 1:]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], None if input_shape[1] is None else input_shape[1] - 1)


def custom_objects() -> dict[str, type]:
    return {"MaskedGlobalPooling1D": MaskedGlobalPooling1D,
            "SparseCrossentropyWithSmoothing": SparseCrossentropyWithSmoothing,
            "TokenNgrams": TokenNgrams, "DropOovColumn": DropOovColumn}
