"""A recurrent branch beside a lexical one (seed 004's two-input idea, both read from the tokens):
the LSTM sees word order, a bag-of-words branch sees which words occur — what TF-IDF + logistic
regression sees, and what a small recurrent model on a few thousand tweets learns slowly."""

from __future__ import annotations

from .registry import family


@family("lstm_lexical")
def lstm_lexical(keras, params, vocab_size):
    """Embedding -> LSTM -> Dense(ReLU) -> Dropout, concatenated with the masked mean of
    per-token lexical weights (`lexical_units` of them per token; padding excluded)."""
    layers = keras.layers

    def body(tokens):
        embedded = layers.Embedding(vocab_size, int(params["embedding_size"]),
                                    mask_zero=True)(tokens)
        deep = layers.LSTM(int(params["lstm_units"]))(embedded)
        deep = layers.Dense(int(params["neurons_dense"]), activation="relu")(deep)
        deep = layers.Dropout(float(params["dropout_rate"]))(deep)
        weights = layers.Embedding(vocab_size, int(params.get("lexical_units", 4)),
                                   mask_zero=True)(tokens)
        wide = layers.GlobalAveragePooling1D()(weights)  # honours the mask: a mean over words
        return layers.Concatenate()([deep, wide])

    return body
