"""Weak labels from the TextBlob and VADER lexicons."""

from sentiment_core.data import load_labeled
from sentiment_core.experiments import load_experiment


def test_weak_labels_from_textblob(write_experiment, tmp_path):
    exp = load_experiment(write_experiment(labels={"mode": "textblob", "classes": "binary"}))
    labeled = load_labeled(exp, tmp_path)
    by_text = dict(zip(labeled.frame["text"], labeled.frame["label"]))
    assert any("love" in t and y == 1 for t, y in by_text.items())
    assert any("hate" in t and y == 0 for t, y in by_text.items())
    assert labeled.counts["dropped_label"] > 0  # polarity 0 rows are dropped


def test_vader_labels(write_experiment, tmp_path):
    exp = load_experiment(write_experiment(labels={"mode": "vader", "classes": "three"}))
    labeled = load_labeled(exp, tmp_path)
    assert labeled.class_names == ["negative", "neutral", "positive"]
    by_text = dict(zip(labeled.frame["text"], labeled.frame["label"]))
    assert all(y == 2 for t, y in by_text.items() if " love " in f" {t} ")
    assert all(y == 0 for t, y in by_text.items() if " hate " in f" {t} ")
