"""Leak-free, stratified, seeded train/validation/test split.

Rows that share a duplicate key (a tweet and its retweets) form one group, and a group never
crosses splits. Groups are stratified by their majority label with scikit-learn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, train_test_split


def leak_free_split(keys: list[str], labels: np.ndarray, validation: float, test: float,
                    seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row positions of train, validation and test. Raises ValueError when too few rows."""
    frame = pd.DataFrame({"key": keys, "label": labels})
    group_of_row = frame.groupby("key", sort=False).ngroup().to_numpy()
    group_label = frame.groupby("key", sort=False)["label"].agg(lambda s: s.mode().iloc[0])
    groups = np.arange(len(group_label))
    rest, test_groups = train_test_split(groups, test_size=test, random_state=seed,
                                         stratify=group_label.to_numpy())
    train_groups, val_groups = train_test_split(
        rest, test_size=validation / (1 - test), random_state=seed,
        stratify=group_label.to_numpy()[rest])
    rows = [np.flatnonzero(np.isin(group_of_row, g)) for g in (train_groups, val_groups,
                                                                  test_groups)]
    return rows[0], rows[1], rows[2]


def grouped_folds(keys: np.ndarray, labels: np.ndarray, k: int,
                  seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """K (fit rows, held-out rows) pairs, stratified by label; a duplicate group never sits on
    both sides of a fold."""
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(fit, held) for fit, held in splitter.split(np.zeros(len(labels)), labels, keys)]
