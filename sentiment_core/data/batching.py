"""Length-bucketed batches: tweets are short (GOP: p50 16 tokens, p95 23) but padded to a fixed
length (40), so most recurrent steps of a fixed-length batch read padding. Bucketing groups rows of
similar length and trims each batch to its bucket's length.

    lengths = token_lengths(x_train)
    boundaries = bucket_boundaries(lengths, x_train.shape[1], count=4)    # e.g. [16, 20, 24, 40]
    for rows, length in bucketed_batches(lengths, boundaries, 256, rng): x[rows, :length]

A few fixed lengths (not one per batch) keep the compiled training graph from being retraced for
every batch. Padding is at the end (TextVectorization) and every family masks it, so a masked
model gives the same outputs on a trimmed row as on the padded one.
"""

from __future__ import annotations

import numpy as np


def token_lengths(ids: np.ndarray) -> np.ndarray:
    """Tokens per row of an end-padded id matrix (position of the last non-zero id + 1)."""
    nonzero = ids != 0
    last = ids.shape[1] - np.argmax(nonzero[:, ::-1], axis=1)
    return np.where(nonzero.any(axis=1), last, 0)


def bucket_boundaries(lengths: np.ndarray, sequence_length: int, count: int,
                      multiple: int = 4) -> list[int]:
    """Bucket lengths at the 1/count, 2/count, ..., 1 quantiles of `lengths` (observed lengths,
    rounded up to a multiple of `multiple`; duplicates merged), plus `sequence_length` for
    longer rows of other splits (an empty bucket costs nothing)."""
    if count < 1:
        raise ValueError(f"length_buckets must be >= 1, got {count}")
    quantiles = np.quantile(lengths, np.arange(1, count + 1) / count, method="higher") \
        if len(lengths) else []
    rounded = {min(sequence_length, max(multiple, int(np.ceil(q / multiple)) * multiple))
               for q in quantiles}
    return sorted(rounded | {sequence_length})


def bucketed_batches(lengths: np.ndarray, boundaries: list[int], batch_size: int,
                     rng: np.random.Generator) -> list[tuple[np.ndarray, int]]:
    """One epoch: each row goes to the shortest bucket that holds it; rows are shuffled within
    their bucket and cut into batches (the last one of a bucket may be short); the batches are
    then shuffled across buckets. Returns (row indices, bucket length) per batch."""
    bucket_of = np.searchsorted(boundaries, lengths, side="left")
    batches = []
    for b, length in enumerate(boundaries):
        rows = rng.permutation(np.flatnonzero(bucket_of == b))
        batches += [(rows[i:i + batch_size], length) for i in range(0, len(rows), batch_size)]
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]
