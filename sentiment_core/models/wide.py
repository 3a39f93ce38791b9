"""Wide & deep: a regularized linear model over word n-grams beside the LSTM, trained together.

The wide part is what TF-IDF + logistic regression sees, built from Keras layers inside the model
(TokenNgrams -> IntegerLookup(tf_idf) -> UnitNormalization -> Dense with L2), so a saved model
reads token ids like every family and `predict` on raw text needs nothing else. Its n-grams
(unigrams and bigrams of the token ids) and their IDF are fitted on the training rows only:
those seen in at least `wide_min_df` training rows, the `wide_max_ngrams` most frequent; IDF as
scikit-learn's smooth IDF. The wide logits add to the deep part's before the output activation
(Wide & Deep, Cheng et al. 2016), so the model can do at least what the linear model does.
"""

from __future__ import annotations

import numpy as np

from .recurrent import _dense_head, _embedding
from .registry import family


def fit_ngrams(train_ids: np.ndarray, vocab_size: int, min_df: int, max_ngrams: int,
               chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """(codes, idf) of the n-grams in at least `min_df` training rows, most frequent first
    (ties by code), at most `max_ngrams`; idf = ln((1 + n) / (1 + df)) + 1."""
    from .layers import TokenNgrams

    layer = TokenNgrams(vocab_size)
    pairs = []  # (row, code) once per row
    for start in range(0, len(train_ids), chunk):
        codes = np.asarray(layer(np.asarray(train_ids[start:start + chunk])))
        rows = np.repeat(np.arange(start, start + len(codes)), codes.shape[1])
        flat = codes.reshape(-1)
        keep = flat > 0
        pairs.append(np.unique(np.stack([rows[keep], flat[keep]], axis=1), axis=0))
    if not pairs:
        raise ValueError("no training rows to fit the wide part on")
    codes, df = np.unique(np.concatenate(pairs)[:, 1], return_counts=True)
    kept = df >= min_df
    codes, df = codes[kept], df[kept]
    order = np.lexsort((codes, -df))[:max_ngrams]
    if not len(order):
        raise ValueError(f"no n-gram occurs in {min_df} or more training rows (wide_min_df)")
    idf = np.log((1 + len(train_ids)) / (1 + df[order])) + 1
    return codes[order].astype(np.int64), idf.astype(np.float32)


@family("wide_deep",
        required=("embedding_size", "lstm_units", "neurons_dense", "dropout_rate", "wide_l2"),
        optional={"wide_min_df": 2, "wide_max_ngrams": 30000}, wide=True)
def wide_deep(keras, params, vocab_size, tokens, train_ids, outputs):
    """Embedding -> LSTM -> Dense(ReLU) -> Dropout, plus an L2-regularized linear part over
    TF-IDF word uni- and bigrams fitted on the training rows."""
    from .layers import TokenNgrams

    deep = keras.layers.LSTM(int(params["lstm_units"]), name="lstm")(
        _embedding(keras, params, vocab_size)(tokens))
    deep = _dense_head(keras, params, deep)
    codes, idf = fit_ngrams(train_ids, vocab_size, int(params["wide_min_df"]),
                            int(params["wide_max_ngrams"]))
    x = TokenNgrams(vocab_size, name="ngrams")(tokens)
    x = keras.layers.IntegerLookup(vocabulary=codes.tolist(), idf_weights=idf.tolist(),
                                   output_mode="tf_idf", mask_token=0, vocabulary_dtype="int64",
                                   name="tfidf")(x)
    x = keras.layers.UnitNormalization(name="tfidf_norm")(x)  # scikit-learn's norm="l2"
    wide = keras.layers.Dense(outputs, name="wide",
                              kernel_regularizer=keras.regularizers.L2(float(params["wide_l2"])))(x)
    return deep, wide
