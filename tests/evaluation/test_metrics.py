"""Metrics on small fixed predictions whose right answers are counted by hand below."""

from __future__ import annotations

import numpy as np
import pytest

from sentiment_core.evaluation import (
    classification_metrics,
    evaluation,
    one_per_group,
    optimal_threshold,
)

Y = np.array([0, 0, 0, 0, 1, 1, 1, 0, 1, 0])
P = np.array([0.1, 0.4, 0.35, 0.8, 0.7, 0.55, 0.2, 0.05, 0.9, 0.6])
NAMES = ["negative", "positive"]
# At 0.5 the predictions are     0    0    0     1    1    1     0    0     1    1
# TP = rows 4, 5, 8 -> 3   FP = rows 3, 9 -> 2   FN = row 6 -> 1   TN = rows 0, 1, 2, 7 -> 4


def test_metrics_on_fixed_predictions_equal_hand_counts():
    summary = classification_metrics(Y, P)
    assert summary["accuracy"] == pytest.approx(7 / 10)  # TP + TN = 7 of 10
    assert summary["precision"] == pytest.approx(3 / 5)  # TP / (TP + FP)
    assert summary["recall"] == pytest.approx(3 / 4)  # TP / (TP + FN)
    assert summary["f1"] == pytest.approx(2 / 3)  # 2 * 0.6 * 0.75 / (0.6 + 0.75)
    # negative class: precision 4/5, recall 4/6 -> F1 8/11; macro = (2/3 + 8/11) / 2 = 23/33
    assert summary["macro_f1"] == pytest.approx(23 / 33)
    # positives score 0.9, 0.7, 0.55, 0.2; each beats 6, 5, 4, 2 of the 6 negatives: 17 of 24
    assert summary["roc_auc"] == pytest.approx(17 / 24)
    full = evaluation(Y, P, NAMES)
    assert full["confusion_matrix"] == [[4, 2], [1, 3]]
    assert full["per_class"]["negative"]["recall"] == pytest.approx(4 / 6)
    assert full["per_class"]["positive"]["precision"] == pytest.approx(3 / 5)
    assert full["per_class"]["negative"]["support"] == 6
    assert "macro avg" in full["report"]
    at_03 = evaluation(Y, P, NAMES, threshold=0.3)
    assert at_03["confusion_matrix"] == [[2, 4], [1, 3]]  # 0.4, 0.35, 0.8, 0.6 pass 0.3
    # at 0.3: positive F1 = 6 / (6 + 4 + 1) = 6/11, negative F1 = 4 / (4 + 1 + 4) = 4/9
    assert at_03["summary"]["macro_f1"] == pytest.approx((6 / 11 + 4 / 9) / 2)


def test_three_class_metrics_are_macro():
    y = np.array([0, 1, 2, 2, 1, 0])
    proba = np.eye(3)[[0, 1, 2, 1, 1, 2]] * 0.8 + 0.2 / 3  # predicted 0 1 2 1 1 2
    summary = classification_metrics(y, proba)
    # per class (TP, FP, FN): 0: (1, 0, 1) F1 2/3; 1: (2, 1, 0) F1 4/5; 2: (1, 1, 1) F1 1/2
    assert summary["f1"] == pytest.approx((2 / 3 + 4 / 5 + 1 / 2) / 3)  # 59/90
    assert summary["macro_f1"] == pytest.approx(59 / 90)
    assert summary["accuracy"] == pytest.approx(4 / 6)
    # one-vs-rest AUC (scores are 0.87 when predicted, else 0.07; ties count half):
    # class 0: 6/8, class 1: 7/8, class 2: 5/8 -> macro 0.75
    assert summary["roc_auc"] == pytest.approx(0.75)


def test_optimal_threshold_is_the_best_macro_f1_on_the_grid():
    # Macro F1 by threshold interval (hand counts as above):
    #   (0.1, 0.2] 0.583   (0.2, 0.35] 0.495   (0.35, 0.4] 0.600   (0.4, 0.55] 23/33 = 0.697
    #   (0.55, 0.6] 0.583  (0.6, 0.7] 0.670    (0.7, 0.8] 0.524    (0.8, 0.9] 0.600
    # The best interval starts above 0.4: the first grid point in it is 0.41.
    threshold = optimal_threshold(Y, P)
    assert threshold == pytest.approx(0.41)
    assert classification_metrics(Y, P, threshold)["macro_f1"] == pytest.approx(23 / 33)
    assert classification_metrics(Y, P, 0.65)["macro_f1"] == pytest.approx((4 / 7 + 10 / 13) / 2)


@pytest.mark.parametrize("case", ["mixed", "one class", "all above", "ties"])
def test_optimal_threshold_scores_each_cut_as_scikit_learn_does(case):
    """The one-pass macro F1 per threshold equals f1_score's at every cut, including cuts where
    a class is neither true nor predicted (scikit-learn then averages over the other)."""
    from sklearn.metrics import f1_score

    from sentiment_core.evaluation.metrics import _binary_macro_f1

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    proba = {"mixed": np.clip(0.3 * y + rng.uniform(0, 0.7, 300), 0, 1),
             "one class": rng.uniform(0, 1, 300), "all above": rng.uniform(0.995, 1, 300),
             "ties": rng.choice([0.25, 0.5, 0.75], 300)}[case]
    if case == "one class":
        y = np.ones(300, int)
    grid = np.round(np.arange(0.02, 0.99, 0.01), 2)
    expected = [f1_score(y, (proba >= t).astype(int), average="macro", zero_division=0)
                for t in grid]
    np.testing.assert_allclose(_binary_macro_f1(y == 1, proba, grid), expected, atol=1e-12)
    assert optimal_threshold(y, proba) == grid[int(np.argmax(expected))]


def test_one_per_group_keeps_each_tweet_once_with_its_majority_label():
    keys = np.array([5, 5, 7, 5, 9, 3, 3])
    labels = np.array([1, 0, 0, 1, 1, 0, 1])
    rows, y = one_per_group(keys, labels)
    assert rows.tolist() == [0, 2, 4, 5]  # each group's first row, in row order
    # group 5: labels 1, 0, 1 -> 1; 7 -> 0; 9 -> 1; group 3: a 0/1 tie -> the first row's 0
    assert y.tolist() == [1, 0, 1, 0]
    # one tweet copied 9 times decides a per-row score; once per tweet it is one of four
    keys = np.array([0] * 9 + [1, 2, 3])
    y_rows = np.array([1] * 9 + [0, 0, 1])
    wrong_on_the_copied_one = np.array([0.1] * 9 + [0.2, 0.3, 0.9])
    rows, y = one_per_group(keys, y_rows)
    assert classification_metrics(y_rows, wrong_on_the_copied_one)["accuracy"] == \
        pytest.approx(3 / 12)
    assert classification_metrics(y, wrong_on_the_copied_one[rows])["accuracy"] == \
        pytest.approx(3 / 4)
