"""Families that pool over the time steps, always over the unmasked ones only.

bilstm_maxpool (seed 001), bilstm_regularized (seed 002's light BiLSTM), avgpool (seed 004's
baseline). Keras's GlobalMaxPooling1D drops the padding mask (with a warning), so these use
MaskedGlobalPooling1D: padded positions never enter the max or the mean.
"""

from __future__ import annotations

from .recurrent import _dense_head, _embedding
from .registry import family


def _masked_pool(mode: str, name: str = "pool"):
    from .layers import MaskedGlobalPooling1D  # imports Keras: on first build only

    return MaskedGlobalPooling1D(mode, name=name)


@family("bilstm_maxpool", required=("embedding_size", "lstm_units", "dropout_rate"))
def bilstm_maxpool(keras, params, vocab_size, tokens):
    """Seed 001: Embedding -> BiLSTM(return_sequences) -> masked GlobalMaxPooling -> Dropout."""
    x = _embedding(keras, params, vocab_size)(tokens)
    x = keras.layers.Bidirectional(keras.layers.LSTM(int(params["lstm_units"]),
                                                     return_sequences=True), name="bilstm")(x)
    x = _masked_pool("max")(x)
    return keras.layers.Dropout(float(params["dropout_rate"]), name="dropout")(x)


@family("bilstm_regularized",
        required=("embedding_size", "spatial_dropout", "lstm_units", "neurons_dense", "l2",
                  "dropout_rate", "label_smoothing"))
def bilstm_regularized(keras, params, vocab_size, tokens):
    """Seed 002: Embedding -> SpatialDropout1D -> BiLSTM -> masked max pooling -> Dense(ReLU,
    L2) -> Dropout, trained with label smoothing."""
    x = _embedding(keras, params, vocab_size)(tokens)
    x = keras.layers.SpatialDropout1D(float(params["spatial_dropout"]), name="spatial_dropout")(x)
    x = keras.layers.Bidirectional(keras.layers.LSTM(int(params["lstm_units"]),
                                                     return_sequences=True,
                                                     dropout=float(params["spatial_dropout"])),
                                   name="bilstm")(x)
    x = _masked_pool("max")(x)
    x = keras.layers.Dense(int(params["neurons_dense"]), activation="relu", name="dense",
                           kernel_regularizer=keras.regularizers.L2(float(params["l2"])))(x)
    return keras.layers.Dropout(float(params["dropout_rate"]), name="dropout")(x)


@family("avgpool", required=("embedding_size", "neurons_dense", "dropout_rate"))
def avgpool(keras, params, vocab_size, tokens):
    """Seed 004's baseline: Embedding -> masked GlobalAveragePooling -> Dense(ReLU) -> Dropout."""
    x = _embedding(keras, params, vocab_size)(tokens)
    x = _masked_pool("average")(x)
    return _dense_head(keras, params, x)
