"""Recurrent families of the seeds, in backend-neutral Keras 3 (a GPU worker may run another
backend). Each builder returns the layers between the input and the output head."""

from __future__ import annotations

from .registry import family


@family("lstm", params=("embedding_size", "lstm_units", "neurons_dense", "dropout_rate"))
def lstm(keras, params, vocab_size):
    """Seed 000: Embedding -> LSTM -> Dense(ReLU) -> Dropout (build_model adds the output)."""
    return [
        # mask_zero: the LSTM skips the end padding instead of reading it
        keras.layers.Embedding(vocab_size, int(params["embedding_size"]), mask_zero=True),
        keras.layers.LSTM(int(params["lstm_units"])),
        keras.layers.Dense(int(params["neurons_dense"]), activation="relu"),
        keras.layers.Dropout(float(params["dropout_rate"])),
    ]
