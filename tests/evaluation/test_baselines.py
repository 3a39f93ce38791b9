"""Baselines: majority class, lexicons and TF-IDF + logistic regression on the same splits."""

from __future__ import annotations

import numpy as np
import pytest

from sentiment_core.evaluation import baseline_table, lexicon_proba, predictions


def test_baselines_on_the_same_splits(tiny_experiment, tiny_data, tmp_path):
    from sentiment_core.data import split_texts

    texts = split_texts(tiny_experiment, tmp_path, tiny_data)
    assert np.array_equal(texts["val"]["label"].to_numpy(), tiny_data.y_val)
    table = baseline_table(texts, tiny_data.class_names, seed=0).set_index(["baseline", "split"])
    majority = np.bincount(tiny_data.y_train).argmax()
    assert table.loc[("majority class", "val"), "accuracy"] == \
        pytest.approx((tiny_data.y_val == majority).mean())
    assert table.loc[("TF-IDF + logistic regression", "test"), "macro_f1"] > 0.8
    assert table.loc[("VADER lexicon", "val"), "roc_auc"] > 0.7  # love/hate words


def test_lexicon_baseline_needs_sentiment_words_to_say_positive():
    texts = ["the debate is on channel five", "a great and wonderful answer", "awful, terrible"]
    for mode in ("textblob", "vader"):
        assert predictions(lexicon_proba(texts, mode, 2)).tolist() == [0, 1, 0]
        assert lexicon_proba(texts, mode, 3).argmax(axis=1).tolist() == [1, 2, 0]
