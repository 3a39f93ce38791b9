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


def one_per_group(keys: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each duplicate group once: the positions of its first row and the group's majority label
    (a tie goes to the first row's). The leak-free split keeps a tweet's copies on one side, so
    a test split can hold a few tweets repeated a hundred times (GOP, seed 2016: five tweets
    are 26% of the test rows); scored per group, each tweet counts once."""
    keys, y = np.asarray(keys), np.asarray(y, dtype=np.int64)
    _, first, group = np.unique(keys, return_index=True, return_inverse=True)
    votes = np.zeros((len(first), int(y.max()) + 1), dtype=np.int64)
    np.add.at(votes, (group.reshape(-1), y), 1)
    labels = y[first]
    unique_leader = (votes == votes.max(axis=1, keepdims=True)).sum(axis=1) == 1
    labels[unique_leader] = votes[unique_leader].argmax(axis=1)
    order = np.argsort(first)  # the groups in the order of their first rows
    return first[order], labels[order]


def per_tweet_metrics(keys: np.ndarray, y: np.ndarray, proba: np.ndarray,
                      threshold: float = 0.5) -> dict[str, float]:
    """`classification_metrics` with each duplicate group once (`one_per_group`)."""
    keep, labels = one_per_group(keys, y)
    return classification_metrics(labels, np.asarray(proba)[keep], threshold)


def optimal_threshold(y_true: np.ndarray, proba: np.ndarray) -> float:
    """The decision threshold that maximizes macro F1 (binary models; chosen on validation)."""
    proba = np.asarray(proba, dtype=np.float64).reshape(-1)
    grid = np.round(np.arange(0.02, 0.99, 0.01), 2)
    return float(grid[int(np.argmax(_binary_macro_f1(np.asarray(y_true) == 1, proba, grid)))])


def _binary_macro_f1(positive: np.ndarray, proba: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """scikit-learn's f1_score(average="macro", zero_division=0) at every threshold of `grid` in
    one pass (97 calls of it cost 0.4 s a trial): the mean F1 over the labels present in the
    truth or the predictions."""
    predicted = proba[None, :] >= grid[:, None]
    tp = (predicted & positive).sum(axis=1)
    fp = predicted.sum(axis=1) - tp
    fn = positive.sum() - tp
    tn = len(proba) - tp - fp - fn
    per_label = [(2 * tp, 2 * tp + fp + fn), (2 * tn, 2 * tn + fn + fp)]
    f1 = [np.divide(top, bottom, out=np.zeros(len(grid)), where=bottom > 0)
          for top, bottom in per_label]
    present = [bottom > 0 for _, bottom in per_label]  # in the truth or the predictions
    return (f1[0] + f1[1]) / np.maximum(present[0].astype(int) + present[1], 1)


def evaluation(y_true: np.ndarray, proba: np.ndarray, class_names: list[str],
               threshold: float = 0.5) -> dict:
    """Everything a report shows for one split at one threshold: summary metrics, per-class
    precision/recall/F1/support, the confusion matrix and scikit-learn's text report."""
    predicted = predictions(proba, threshold)
    labels = list(range(len(class_names)))
    precision, recall, f1, support = sk.precision_recall_fscore_support(
        y_true, predicted, labels=labels, zero_division=0)
    return {
        "threshold": threshold,
        "summary": classification_metrics(y_true, proba, threshold),
        "per_class": {name: {"precision": float(precision[i]), "recall": float(recall[i]),
                             "f1": float(f1[i]), "support": int(support[i])}
                      for i, name in enumerate(class_names)},
        "confusion_matrix": sk.confusion_matrix(y_true, predicted, labels=labels).tolist(),
        "report": sk.classification_report(y_true, predicted, labels=labels,
                                           target_names=class_names, zero_division=0, digits=4),
    }


def flat_metrics(evaluation_: dict, prefix: str) -> dict[str, float]:
    """`val_accuracy`, `val_f1_negative`, ... for logging one evaluation as MLflow metrics."""
    out = {f"{prefix}{k}": v for k, v in evaluation_["summary"].items()}
    for name, scores in evaluation_["per_class"].items():
        out.update({f"{prefix}{k}_{name}": float(v) for k, v in scores.items() if k != "support"})
    return out
