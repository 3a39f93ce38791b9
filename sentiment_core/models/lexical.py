"""A recurrent branch beside a lexical one (seed 004's two-input idea, both read from the tokens):
the LSTM sees word order, a bag-of-words branch sees which words occur — what TF-IDF + logistic
regression sees, and what a small recurrent model on a few thousand tweets learns slowly."""

from __future__ import annotations

from .recurrent import _dense_head, _embedding
from .registry import family


@family("lstm_lexical",
        required=("embedding_size", "lstm_units", "neurons_dense", "dropout_rate"),
        optional={"lexical_units": 4})
def lstm_lexical(keras, params, vocab_size, tokens):
    """Embedding -> LSTM -> Dense(ReLU) -> Dropout, beside the masked mean of per-token lexical
    weights (`lexical_units` per token; padding excluded)."""
    deep = keras.layers.LSTM(int(params["lstm_units"]), name="lstm")(
        _embedding(keras, params, vocab_size)(tokens))
    deep = _dense_head(keras, params, deep)
    weights = keras.layers.Embedding(vocab_size, int(params["lexical_units"]), mask_zero=True,
                                     name="lexical_weights")(tokens)
    wide = keras.layers.GlobalAveragePooling1D(name="lexical_mean")(weights)  # honours the mask
    return keras.layers.Concatenate(name="deep_and_lexical")([deep, wide])
