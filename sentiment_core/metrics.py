"""Classification metrics from scikit-learn, on predicted probabilities.

Binary models output P(positive) with shape (n,) or (n, 1); multi-class models a (n, k) matrix.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as sk


def predictions(proba: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    proba = np.asarray(proba)
    if proba.ndim == 1 or proba.shape[1] == 1:
        return (proba.reshape(-1) >= threshold).astype(np.int64)
    return proba.argmax(axis=1)


def classification_metrics(y_true: np.ndarray, proba: np.ndarray,
                           threshold: float = 0.5) -> dict[str, float]:
    """accuracy, precision, recall, f1 (of the positive class; macro for >2 classes), macro_f1,
    roc_auc (NaN when only one class is present)."""
    proba = np.asarray(proba, dtype=np.float64)
    binary = proba.ndim == 1 or proba.shape[1] == 1
    predicted = predictions(proba, threshold)
    average = "binary" if binary else "macro"
    precision, recall, f1, _ = sk.precision_recall_fscore_support(
        y_true, predicted, average=average, zero_division=0)
    out = {
        "accuracy": sk.accuracy_score(y_true, predicted),
        "precision": precision, "recall": recall, "f1": f1,
        "macro_f1": sk.f1_score(y_true, predicted, average="macro", zero_division=0),
        "roc_auc": float("nan"),
    }
    if len(np.unique(y_true)) > 1:
        out["roc_auc"] = (sk.roc_auc_score(y_true, proba.reshape(-1)) if binary else
                          sk.roc_auc_score(y_true, proba, multi_class="ovr", average="macro"))
    return {k: float(v) for k, v in out.items()}
