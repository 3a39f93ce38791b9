"""Wide & deep: a regularized linear model over word n-grams beside the LSTM, trained together.

The wide part is what TF-IDF + logistic regression sees, built from Keras layers inside the model
(TokenNgrams -> IntegerLookup(tf_idf) -> DropOovColumn -> UnitNormalization -> Dense with L2), so a saved model
reads token ids like every family and `predict` on raw text needs nothing else. Its n-grams
(unigrams and bigrams of the token ids) and their IDF are fitted on the training rows only:
those seen in at least `wide_min_df` training rows, the `wide_max_ngrams` most frequent; IDF as
scikit-learn's smooth IDF. The wide logits add to the deep part's before the output activation
(Wide & Deep, Cheng et al. 2016). `wide_init: logistic` (the default) starts the wide weights at
logistic regression's solution on the training rows, so joint training starts from what the
linear model does; `zeros` starts them at zero.
"""

from __future__ import annotations

import numpy as np

from .recurrent import _dense_head, _embedding
from .registry import family


def short_words(vocabulary: list[str]) -> list[int]:
    """Ids of the one-character words: n-grams with them are left out, as scikit-learn's
    default token pattern (2+ characters) leaves them out of TF-IDF + LR. Measured on
    gop_debate_lstm's test split, with them LR on the ids lost 0.026 macro F1 ("s" and "t" of
    "'s" and "don't" after punctuation removal pair with every word)."""
    return [i for i, word in enumerate(vocabulary) if 0 < len(word) < 2]


def fit_ngrams(train_ids: np.ndarray, vocab_size: int, min_df: int, max_ngrams: int,
               ignore: list[int] | None = None,
               chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """(codes, idf) of the n-grams in at least `min_df` training rows, most frequent first
    (ties by code), at most `max_ngrams`; idf = ln((1 + n) / (1 + df)) + 1."""
    from .layers import TokenNgrams

    layer = TokenNgrams(vocab_size, ignore)
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


def warm_start(wide, features, train_ids: np.ndarray, train_labels: np.ndarray,
               params, rate: float = 1.0, chunk: int = 2048) -> None:
    """Sets the `wide` Dense layer to logistic regression's solution on the training rows' TF-IDF
    (computed by the model's own `features` layers): joint training then starts where the linear
    model ends, instead of from zero (Adam at the network's learning rate leaves a linear model on
    16k sparse n-grams far from converged when early stopping ends the fit). Same objective as
    the layer's L2 on the mean loss: C = 1 / (2 * wide_l2 * rows); class weights as the trial's."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    x = sparse.vstack([sparse.csr_matrix(np.asarray(features(np.asarray(
        train_ids[start:start + chunk])))) for start in range(0, len(train_ids), chunk)])
    c = 1.0 / (2.0 * float(params["wide_l2"]) * len(train_ids))
    balanced = str(params.get("class_weight", "none")) == "balanced"
    linear = LogisticRegression(C=c, max_iter=2000, class_weight="balanced" if balanced else None)
    linear.fit(x, np.asarray(train_labels))
    if len(linear.classes_) != max(wide.units, 2):
        raise ValueError("the wide part's warm start needs every class in the training rows")
    wide.set_weights([linear.coef_.T.astype(np.float32) / rate,
                      linear.intercept_.astype(np.float32)])


@family("wide_deep",
        required=("embedding_size", "lstm_units", "neurons_dense", "dropout_rate", "wide_l2"),
        optional={"wide_min_df": 2, "wide_max_ngrams": 30000, "wide_init": "logistic",
                  "wide_rate": 1.0},
        wide=True)
def wide_deep(keras, params, vocabulary, tokens, train_ids, train_labels, outputs):
    """Embedding -> LSTM -> Dense(ReLU) -> Dropout, plus an L2-regularized linear part over
    TF-IDF word uni- and bigrams fitted on the training rows."""
    from .layers import DropOovColumn, TokenNgrams

    vocab_size, ignore = len(vocabulary), short_words(vocabulary)
    deep = keras.layers.LSTM(int(params["lstm_units"]), name="lstm")(
        _embedding(keras, params, vocab_size)(tokens))
    deep = _dense_head(keras, params, deep)
    codes, idf = fit_ngrams(train_ids, vocab_size, int(params["wide_min_df"]),
                            int(params["wide_max_ngrams"]), ignore)
    ngrams = TokenNgrams(vocab_size, ignore, name="ngrams")
    lookup = keras.layers.IntegerLookup(vocabulary=codes.tolist(), idf_weights=idf.tolist(),
                                        output_mode="tf_idf", mask_token=0,
                                        vocabulary_dtype="int64", name="tfidf")
    known = DropOovColumn(name="tfidf_known")
    norm = keras.layers.UnitNormalization(name="tfidf_norm")  # scikit-learn's norm="l2"

    def features(ids):
        return norm(known(lookup(ngrams(ids))))

    # wide_rate r < 1: the features scaled by r and the weights by 1/r, the same model and
    # penalty, but Adam's steps (about the learning rate per weight) move the logits r times less
    rate = float(params["wide_rate"])
    if not rate > 0:
        raise ValueError(f"wide_rate must be above 0, got {rate}")
    layer = keras.layers.Dense(outputs, name="wide", kernel_initializer="zeros",
                               kernel_regularizer=keras.regularizers.L2(
                                   float(params["wide_l2"]) * rate ** 2))
    wide = layer(keras.layers.Rescaling(rate, name="wide_rate")(features(tokens)))
    if str(params["wide_init"]) == "logistic":
        warm_start(layer, features, train_ids, train_labels, params, rate)
    elif str(params["wide_init"]) != "zeros":
        raise ValueError(f"wide_init must be logistic or zeros, got {params['wide_init']!r}")
    return deep, wide
