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


def frames(seed: int = 0, n: int = 90) -> dict:
    """Train/val/test frames (text, clean, label) where sentiment words decide the label, but a
    mild positive word ('fine') marks negatives: a fixed lexicon cut is not the best one."""
    import random

    import pandas as pd

    rng = random.Random(seed)
    out = {}
    for split in ("train", "val", "test"):
        rows = []
        for i in range(n):
            positive = rng.random() < 0.3
            word = rng.choice(["wonderful", "amazing", "love it"] if positive else
                              ["fine", "okay fine", "terrible", "awful"])
            text = f"the debate {word} tonight {rng.choice(['stage', 'crowd', 'vote'])}"
            rows.append({"text": text, "clean": text, "label": int(positive)})
        out[split] = pd.DataFrame(rows)
    return out


def test_each_baseline_is_at_its_setting_chosen_on_validation_only():
    from sentiment_core.evaluation import classification_metrics, optimal_threshold
    from sentiment_core.evaluation.baselines import C_GRID, lexicon_proba, tfidf_logreg

    texts = frames()
    table = baseline_table(texts, ["negative", "positive"], seed=0).set_index(
        ["baseline", "split"])
    assert table["setting"].notna().all()
    y_val, y_test = texts["val"]["label"].to_numpy(), texts["test"]["label"].to_numpy()
    for name, mode in (("VADER lexicon", "vader"), ("TextBlob lexicon", "textblob")):
        val = lexicon_proba(texts["val"]["text"].tolist(), mode, 2)
        cut = optimal_threshold(y_val, val)
        assert table.loc[(name, "test"), "setting"] == f"threshold {cut:.2f} (val)"
        test = lexicon_proba(texts["test"]["text"].tolist(), mode, 2)
        assert table.loc[(name, "test"), "macro_f1"] == pytest.approx(
            classification_metrics(y_test, test, cut)["macro_f1"])
        # at least as good on validation as the fixed cut it replaces
        assert table.loc[(name, "val"), "macro_f1"] >= \
            classification_metrics(y_val, val)["macro_f1"] - 1e-12
    setting = table.loc[("TF-IDF + logistic regression", "val"), "setting"]
    chosen = float(setting.split(",")[0].removeprefix("C="))
    assert chosen in C_GRID
    val_f1 = {c: classification_metrics(y_val, tfidf_logreg(
        texts["train"]["clean"].tolist(), texts["train"]["label"].to_numpy(), 0, c
    ).predict_proba(texts["val"]["clean"].tolist())[:, 1])["macro_f1"] for c in C_GRID}
    assert val_f1[chosen] == max(val_f1.values())
    assert table.loc[("majority class", "test"), "setting"] == "always negative (train)"


def test_the_test_labels_never_change_a_setting():
    texts = frames(seed=1)
    before = baseline_table(texts, ["negative", "positive"], seed=0)
    texts["test"]["label"] = 1 - texts["test"]["label"]
    after = baseline_table(texts, ["negative", "positive"], seed=0)
    assert before["setting"].tolist() == after["setting"].tolist()
    assert not np.allclose(before["macro_f1"], after["macro_f1"])


def test_three_classes_choose_the_lexicons_neutral_band_on_validation():
    from sentiment_core.evaluation.baselines import BAND_GRID

    texts = frames(seed=2)
    for frame in texts.values():  # 'fine' / 'okay' rows become neutral
        frame.loc[frame["text"].str.contains("fine"), "label"] = 1
        frame.loc[frame["text"].str.contains("wonderful|amazing|love"), "label"] = 2
    table = baseline_table(texts, ["negative", "neutral", "positive"], seed=0)
    bands = table[table["baseline"] == "VADER lexicon"]["setting"].str.extract(r"\+-([\d.]+)")
    assert {float(b) for b in bands[0]} <= set(BAND_GRID) and len(set(bands[0])) == 1


def test_the_test_tweets_rows_count_each_duplicate_group_once():
    from sentiment_core.evaluation import classification_metrics, one_per_group

    texts = frames(seed=3)
    for frame in texts.values():
        frame["key"] = np.arange(len(frame))
    test = texts["test"]
    test.loc[:29, "key"] = 0  # the first 30 test rows: copies of one tweet
    test.loc[:29, ["text", "clean", "label"]] = test.loc[0, ["text", "clean", "label"]].tolist()
    table = baseline_table(texts, ["negative", "positive"], seed=0)
    tweets = table[table["split"] == "test_tweets"].set_index("baseline")
    assert len(tweets) == 4 and (tweets["setting"] == table[table["split"] == "test"]
                                 .set_index("baseline")["setting"]).all()
    keep, y = one_per_group(test["key"].to_numpy(), test["label"].to_numpy())
    assert len(keep) == len(test) - 29
    majority = classification_metrics(y, np.zeros(len(y)))  # always negative: P(pos) 0
    assert tweets.loc["majority class", "accuracy"] == pytest.approx(majority["accuracy"])
    # without a key column (older frames) there are no per-tweet rows
    texts["test"] = test.drop(columns="key")
    assert "test_tweets" not in set(baseline_table(texts, ["negative", "positive"], 0)["split"])
