"""How many rows of one split are near-copies of a row of another: the check of a split.

    hit = near_copies(test_texts, train_texts)   # bool per test row
    rates = split_leakage({"train": ..., "val": ..., "test": ...})   # {"val": (n, rows), ...}

A row is a near-copy of a reference row when, on the normalized words (`duplicate_key`):
  - the shorter of the two has at least 8 words and all but its last equal the other's first
    ones (a truncated retweet, a quote tweet, words appended), or
  - the Jaccard similarity of their word 3-shingle sets is at least 0.9 (a few words changed).
This measure is deliberately not the one that builds the groups (`near_duplicates`: containment
of shingles, found by prefix filtering); it is computed here by other means (hashed word
prefixes in a set, a sparse product of shingle indicators), so the two can check each other.
"""

from __future__ import annotations

import numpy as np

from .cleaning import NORMALIZE, clean_all

MIN_WORDS = 8
JACCARD = 0.9


def _words(texts: list[str]) -> list[list[str]]:
    return [t.split() for t in clean_all(list(texts), NORMALIZE)]


def near_copies(texts: list[str], reference: list[str]) -> np.ndarray:
    """Per row of `texts`: is it a near-copy of some row of `reference` (raw texts)?"""
    query, ref = _words(texts), _words(reference)
    return _prefix_hits(query, ref) | _jaccard_hits(query, ref)


def _prefix_hits(query: list[list[str]], ref: list[list[str]]) -> np.ndarray:
    # each prefix as a chained hash (one per word, so memory grows with the words, not their
    # square); a 64-bit collision could only add a hit
    ref_hashes = [_prefix_hashes(r) for r in ref]
    # reference shorter: its words but the last are a prefix of the query row
    ref_heads = {h[-2] for h in ref_hashes if len(h) >= MIN_WORDS}
    # query shorter: its words but the last are a prefix of a reference row at least as long
    ref_prefixes = {p for h in ref_hashes for p in h[MIN_WORDS - 2:len(h) - 1]}
    hits = np.zeros(len(query), bool)
    for i, q in enumerate(query):
        h = _prefix_hashes(q)
        hits[i] = (len(q) >= MIN_WORDS and h[-2] in ref_prefixes) or \
            any(p in ref_heads for p in h[MIN_WORDS - 2:len(h) - 1])
    return hits


def _prefix_hashes(words: list[str]) -> list[int]:
    """hash of words[:k] at index k - 1."""
    out, h = [], 0
    for word in words:
        h = hash((h, word))
        out.append(h)
    return out


def _jaccard_hits(query: list[list[str]], ref: list[list[str]],
                  chunk: int = 2000) -> np.ndarray:
    from scipy.sparse import csr_matrix

    vocabulary: dict[tuple, int] = {}

    def indicators(rows: list[list[str]], grow: bool):
        indptr, indices, sizes = [0], [], []
        for words in rows:
            grams = {tuple(words[k:k + 3]) for k in range(len(words) - 2)}
            sizes.append(len(grams))  # a query shingle no reference row has counts in the union
            ids = (vocabulary.setdefault(g, len(vocabulary)) if grow else vocabulary.get(g, -1)
                   for g in grams)
            indices.extend(sorted(i for i in set(ids) if i >= 0))
            indptr.append(len(indices))
        return indptr, indices, np.array(sizes, np.int64)

    r_ptr, r_idx, r_size = indicators(ref, True)
    q_ptr, q_idx, q_size = indicators(query, False)
    width = max(len(vocabulary), 1)
    r = csr_matrix((np.ones(len(r_idx)), r_idx, r_ptr), shape=(len(ref), width))
    q = csr_matrix((np.ones(len(q_idx)), q_idx, q_ptr), shape=(len(query), width))
    hits = np.zeros(len(query), bool)
    for start in range(0, len(query), chunk):
        shared = (q[start:start + chunk] @ r.T).tocoo()
        union = q_size[start + shared.row] + r_size[shared.col] - shared.data
        good = (union > 0) & (shared.data >= JACCARD * union - 1e-9)
        hits[start + shared.row[good]] = True
    return hits


def split_leakage(texts: dict[str, list[str]], reference: str = "train") -> dict[str, dict]:
    """For every split but `reference`: its rows that are near-copies of a `reference` row
    (count, rows, rate)."""
    out = {}
    for split, rows in texts.items():
        if split == reference:
            continue
        hit = near_copies(rows, texts[reference])
        out[split] = {"near_copies": int(hit.sum()), "rows": len(rows),
                      "rate": float(hit.mean()) if len(rows) else 0.0}
    return out


def format_leakage(leakage: dict[str, dict], reference: str = "train") -> str:
    return "\n".join(f"  {split:<6} {v['near_copies']:>6,} of {v['rows']:>7,} rows "
                     f"({100 * v['rate']:.2f}%) are near-copies of a {reference} row"
                     for split, v in leakage.items())


def split_files_leakage(folder) -> dict[str, dict]:
    """`split_leakage` of the train/val/test CSV files `data split` wrote to `folder` (their raw
    `text` column): the check read from the files anyone can audit."""
    from pathlib import Path

    import pandas as pd

    texts = {split: pd.read_csv(Path(folder) / f"{split}.csv", dtype={"text": str},
                                keep_default_na=False)["text"].tolist()
             for split in ("train", "val", "test")}
    return split_leakage(texts)
