"""Seed 004's two-input model: a sequence branch and a branch on six engineered features.

The features (data.token_features: length, share of frequent and of rare tokens, mean and std
of token rank, token entropy) are computed from the token ids by one function wherever the model
is used, and scaled inside the model by a Normalization layer holding the training split's mean
and variance: the scaler is saved in the .keras file, fitted on train only, and cannot drift from
the model. (Seed 004's version collapsed to 0.49 from a train/test preprocessing mismatch.)
"""

from __future__ import annotations

from .pooled import _masked_pool
from .recurrent import _embedding
from .registry import family


@family("features",
        required=("embedding_size", "lstm_units", "feature_units", "neurons_dense",
                  "dropout_rate"),
        uses_features=True)
def features(keras, params, vocab_size, tokens, engineered, stats):
    """Seed 004: Embedding -> BiLSTM -> masked max pooling, beside scaled features -> Dense ->
    BatchNorm; concatenated -> Dense(ReLU) -> Dropout."""
    x = _embedding(keras, params, vocab_size)(tokens)
    x = keras.layers.Bidirectional(keras.layers.LSTM(int(params["lstm_units"]),
                                                     return_sequences=True), name="bilstm")(x)
    x = _masked_pool("max")(x)
    mean, variance = stats
    f = keras.layers.Normalization(mean=mean.tolist(), variance=variance.tolist(),
                                   name="feature_scaler")(engineered)
    f = keras.layers.Dense(int(params["feature_units"]), activation="relu",
                           name="feature_dense")(f)
    f = keras.layers.BatchNormalization(name="feature_norm")(f)
    x = keras.layers.Concatenate(name="join")([x, f])
    x = keras.layers.Dense(int(params["neurons_dense"]), activation="relu", name="dense")(x)
    return keras.layers.Dropout(float(params["dropout_rate"]), name="dropout")(x)
