"""Seed 004's six engineered text features, computed from token ids alone.

    f = token_features(x, vocab_size)     # (rows, 6) float32, one row per vectorized text

The vocabulary is sorted by training frequency (index 2 is the most frequent word, 1 is
out-of-vocabulary, 0 padding), so a token's id is its frequency rank. Computing the features from
the ids (not from raw text) makes them a function of exactly what the sequence branch sees: the
same code runs in training, in evaluation on a prepared split, and in `predict` on raw text (which
is cleaned and vectorized first), and appended padding changes nothing.

Columns (FEATURE_NAMES):
  length         tokens in the text (after truncation to the sequence length)
  frequent_share share of tokens among the FREQUENT_RANKS most frequent words
  rare_share     share of tokens that are out of vocabulary or rank in the rarest 60% of the
                 vocabulary (seed 004: rank >= 20,000 of 50,000)
  rank_mean      mean token rank (out-of-vocabulary counts as the vocabulary size)
  rank_std       standard deviation of the token ranks
  entropy        Shannon entropy (nats) of the text's token histogram (lexical diversity)
Empty texts get zeros. The train-only scaler lives in the model (a Normalization layer).
"""

from __future__ import annotations

import numpy as np

FEATURE_NAMES = ("length", "frequent_share", "rare_share", "rank_mean", "rank_std", "entropy")
FEATURES_VERSION = 1  # bump when a column's definition changes: stored with each model
FREQUENT_RANKS = 500
RARE_FRACTION = 0.4  # ranks at or beyond 40% of the vocabulary size count as rare


def feature_spec(vocab_size: int) -> dict:
    """What a model's features depend on, stored beside its vocabulary."""
    return {"version": FEATURES_VERSION, "names": list(FEATURE_NAMES),
            "frequent_ranks": FREQUENT_RANKS, "rare_rank": rare_rank(vocab_size),
            "vocab_size": int(vocab_size)}


def rare_rank(vocab_size: int) -> int:
    return max(2, int(np.ceil(RARE_FRACTION * vocab_size)))


def token_features(ids: np.ndarray, vocab_size: int) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise ValueError(f"expected a (rows, steps) id matrix, got shape {ids.shape}")
    out = np.zeros((len(ids), len(FEATURE_NAMES)), np.float32)
    kept = ids != 0
    length = kept.sum(axis=1)
    rank = np.where(ids == 1, vocab_size, ids).astype(np.float64)  # OOV: rarer than any word
    present = length > 0
    denominator = np.maximum(length, 1)
    out[:, 0] = length
    out[:, 1] = (kept & (ids >= 2) & (ids < 2 + FREQUENT_RANKS)).sum(axis=1) / denominator
    out[:, 2] = (kept & ((ids == 1) | (ids >= rare_rank(vocab_size)))).sum(axis=1) / denominator
    mean = np.where(kept, rank, 0.0).sum(axis=1) / denominator
    out[:, 3] = mean
    out[:, 4] = np.sqrt(np.where(kept, (rank - mean[:, None]) ** 2, 0.0).sum(axis=1)
                        / denominator)
    for i in np.flatnonzero(present):
        _, counts = np.unique(ids[i][kept[i]], return_counts=True)
        p = counts / counts.sum()
        out[i, 5] = float(-(p * np.log(p)).sum())
    return out


def feature_scaler(train_features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance per column, from the training rows only (variance floored so a
    constant column scales to zeros instead of dividing by zero)."""
    mean = train_features.mean(axis=0)
    variance = np.maximum(train_features.var(axis=0), 1e-6)
    return mean.astype(np.float32), variance.astype(np.float32)
