"""Recurrent families of the seeds, in backend-neutral Keras 3 (a GPU worker may run another
backend). Each builder returns the tensor that `build_model` puts the output head on.

lstm (seed 000), lstm_recurrent_dropout (seeds 002/003), stacked_lstm and gru (seed 003's
suggestions). Every embedding masks padding (mask_zero), so the recurrent layers skip it.
"""

from __future__ import annotations

from ..data import GLOVE_DIM
from .registry import family


def _embedding(keras, params, vocab_size):
    """The token embedding (named `embedding`), as a callable on the token ids. With
    `embedding_init: glove` its table is 50 wide (build_model fills it with GloVe's vectors) and,
    when `embedding_size` is not 50, a linear projection (no bias) maps it to that width, so
    embedding_size still means what the next layer reads."""
    size = int(params["embedding_size"])
    if params.get("embedding_init", "random") != "glove":
        return keras.layers.Embedding(vocab_size, size, mask_zero=True, name="embedding")
    table = keras.layers.Embedding(vocab_size, GLOVE_DIM, mask_zero=True, name="embedding")
    if size == GLOVE_DIM:
        return table
    project = keras.layers.Dense(size, use_bias=False, name="embedding_projection")
    return lambda tokens: project(table(tokens))  # Dense passes the padding mask on


def _dense_head(keras, params, x):
    x = keras.layers.Dense(int(params["neurons_dense"]), activation="relu", name="dense")(x)
    return keras.layers.Dropout(float(params["dropout_rate"]), name="dropout")(x)


@family("lstm", required=("embedding_size", "lstm_units", "neurons_dense", "dropout_rate"))
def lstm(keras, params, vocab_size, tokens):
    """Seed 000: Embedding -> LSTM -> Dense(ReLU) -> Dropout."""
    x = _embedding(keras, params, vocab_size)(tokens)
    x = keras.layers.LSTM(int(params["lstm_units"]), name="lstm")(x)
    return _dense_head(keras, params, x)


@family("lstm_recurrent_dropout",
        required=("embedding_size", "lstm_units", "dropout_rate", "recurrent_dropout"))
def lstm_recurrent_dropout(keras, params, vocab_size, tokens):
    """Seeds 002/003: Embedding -> LSTM(dropout, recurrent_dropout), straight to the output."""
    x = _embedding(keras, params, vocab_size)(tokens)
    return keras.layers.LSTM(int(params["lstm_units"]), dropout=float(params["dropout_rate"]),
                             recurrent_dropout=float(params["recurrent_dropout"]),
                             name="lstm")(x)


@family("stacked_lstm",
        required=("embedding_size", "lstm_units", "lstm_layers", "neurons_dense", "dropout_rate"),
        conditional={"lstm_units_2": ("lstm_layers", (2,))})
def stacked_lstm(keras, params, vocab_size, tokens):
    """Seed 003's suggestion: Embedding -> LSTM [-> LSTM(lstm_units_2)] -> Dense -> Dropout;
    lstm_layers 1 or 2, the second layer's units tuned only when it exists."""
    layers = int(params["lstm_layers"])
    if layers not in (1, 2):
        raise ValueError(f"lstm_layers must be 1 or 2, got {layers}")
    x = _embedding(keras, params, vocab_size)(tokens)
    x = keras.layers.LSTM(int(params["lstm_units"]), return_sequences=layers == 2, name="lstm")(x)
    if layers == 2:
        x = keras.layers.LSTM(int(params["lstm_units_2"]), name="lstm_2")(x)
    return _dense_head(keras, params, x)


@family("gru", required=("embedding_size", "gru_units", "neurons_dense", "dropout_rate"))
def gru(keras, params, vocab_size, tokens):
    """Seed 003's suggestion: Embedding -> GRU -> Dense(ReLU) -> Dropout."""
    x = _embedding(keras, params, vocab_size)(tokens)
    x = keras.layers.GRU(int(params["gru_units"]), name="gru")(x)
    return _dense_head(keras, params, x)
