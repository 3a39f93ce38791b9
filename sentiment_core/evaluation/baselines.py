"""Baselines on the same splits as the campaign, so every LSTM number has context:
majority class, the VADER and TextBlob lexicons, and TF-IDF + logistic regression.

Each at its honest best, as the models are: what a model gets chosen on validation (a decision
threshold), a baseline gets too, on validation only: the lexicons' threshold (binary) or
neutral band (3 classes), TF-IDF + logistic regression's C from a small grid and its threshold.
The chosen setting is a column of the table (`baselines.csv`, `baselines.json`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from ..data import lexicon_scores
from .metrics import classification_metrics, optimal_threshold, per_tweet_metrics


def majority_proba(y_train: np.ndarray, n: int, n_classes: int) -> np.ndarray:
    counts = np.bincount(y_train, minlength=n_classes)
    if n_classes == 2:  # a constant score: accuracy of always answering the majority, AUC 0.5
        return np.full(n, float(np.argmax(counts)))
    return np.tile(np.eye(n_classes)[np.argmax(counts)], (n, 1))


def lexicon_proba(texts: list[str], mode: str, n_classes: int,
                  band: float | None = None) -> np.ndarray:
    """Lexicon score in [-1, 1] mapped to [0, 1] (binary), or a neutral band (3 classes; by
    default VADER's usual +-0.05, TextBlob's 0)."""
    return _lexicon_proba(lexicon_scores(texts, mode), mode, n_classes, band)


def _lexicon_proba(scores: np.ndarray, mode: str, n_classes: int,
                   band: float | None = None) -> np.ndarray:
    band = (0.05 if mode == "vader" else 0.0) if band is None else band
    if n_classes == 2:
        # positive only above the band: a tweet with no sentiment words (score 0) lands just
        # under the 0.5 threshold instead of on it; the ranking (ROC AUC) is unchanged
        return np.clip(0.5 + (scores - band) / 2 - 1e-9, 0.0, 1.0)
    out = np.zeros((len(scores), 3))
    out[scores < -band, 0] = 1
    out[np.abs(scores) <= band, 1] = 1
    out[scores > band, 2] = 1
    return out


C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)  # logistic regression's inverse regularization
BAND_GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)  # 3 classes: the lexicons' neutral band
_SPLITS = ("val", "test")


def tfidf_logreg(train_texts: list[str], y_train: np.ndarray, seed: int, c: float = 1.0):
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                          LogisticRegression(C=c, max_iter=2000, class_weight="balanced",
                                             random_state=seed))
    return model.fit(train_texts, y_train)


@dataclass
class Chosen:
    """A baseline at the setting chosen on validation: its scores per split and the setting."""

    proba: dict[str, np.ndarray]  # split -> P(positive) (binary) or class scores
    threshold: float
    setting: str


def _macro_f1(y: np.ndarray, proba: np.ndarray, threshold: float = 0.5) -> float:
    return classification_metrics(y, proba, threshold)["macro_f1"]


def choose_lexicon(texts: dict[str, pd.DataFrame], mode: str, n_classes: int) -> Chosen:
    """Binary: the decision threshold on the mapped score that maximizes validation macro F1
    (as the models get); 3 classes: the neutral band from BAND_GRID, likewise."""
    scores = {split: lexicon_scores(texts[split]["text"].tolist(), mode) for split in _SPLITS}
    y_val = texts["val"]["label"].to_numpy()
    if n_classes == 2:
        proba = {split: _lexicon_proba(s, mode, 2) for split, s in scores.items()}
        threshold = optimal_threshold(y_val, proba["val"])
        return Chosen(proba, threshold, f"threshold {threshold:.2f} (val)")
    band = max(BAND_GRID, key=lambda b: (_macro_f1(y_val, _lexicon_proba(scores["val"], mode,
                                                                          3, b)), -b))
    proba = {split: _lexicon_proba(s, mode, 3, band) for split, s in scores.items()}
    return Chosen(proba, 0.5, f"neutral band +-{band:.2f} (val)")


def choose_tfidf(texts: dict[str, pd.DataFrame], n_classes: int, seed: int) -> Chosen:
    """C from C_GRID by validation macro F1 (first best on a tie), then (binary) the decision
    threshold on validation, as the models get."""
    train = texts["train"]["clean"].tolist()
    y_train, y_val = texts["train"]["label"].to_numpy(), texts["val"]["label"].to_numpy()
    best = None
    for c in C_GRID:
        model = tfidf_logreg(train, y_train, seed, c)
        score = _macro_f1(y_val, _positive(model.predict_proba(texts["val"]["clean"].tolist()),
                                           n_classes))
        if best is None or score > best[0]:
            best = (score, c, model)
    _, c, model = best
    proba = {split: _positive(model.predict_proba(texts[split]["clean"].tolist()), n_classes)
             for split in _SPLITS}
    threshold = optimal_threshold(y_val, proba["val"]) if n_classes == 2 else 0.5
    return Chosen(proba, threshold, f"C={c:g}" + (f", threshold {threshold:.2f}"
                                                  if n_classes == 2 else "") + " (val)")


def _positive(proba: np.ndarray, n_classes: int) -> np.ndarray:
    return proba[:, 1] if n_classes == 2 else proba


def baseline_table(texts: dict[str, pd.DataFrame], class_names: list[str],
                   seed: int) -> pd.DataFrame:
    """One row per (baseline, split) with its `setting` (chosen on validation) and accuracy,
    macro F1, ROC AUC, ... on val and test at that setting.

    `texts` holds the train/val/test frames of `data.split_texts` (columns text, clean, label).
    """
    n_classes = len(class_names)
    y_train = texts["train"]["label"].to_numpy()
    majority = int(np.argmax(np.bincount(y_train, minlength=n_classes)))
    chosen = {
        "majority class": Chosen({split: majority_proba(y_train, len(texts[split]), n_classes)
                                  for split in _SPLITS}, 0.5,
                                 f"always {class_names[majority]} (train)"),
        "TextBlob lexicon": choose_lexicon(texts, "textblob", n_classes),
        "VADER lexicon": choose_lexicon(texts, "vader", n_classes),
        "TF-IDF + logistic regression": choose_tfidf(texts, n_classes, seed),
    }
    rows = []
    for split in _SPLITS:
        y = texts[split]["label"].to_numpy()
        for name, c in chosen.items():
            rows.append({"baseline": name, "split": split, "setting": c.setting,
                         **classification_metrics(y, c.proba[split], c.threshold)})
    if "key" in texts["test"]:  # each test tweet once (its copies not), as the models get
        keys, y = texts["test"]["key"].to_numpy(), texts["test"]["label"].to_numpy()
        for name, c in chosen.items():
            rows.append({"baseline": name, "split": "test_tweets", "setting": c.setting,
                         **per_tweet_metrics(keys, y, c.proba["test"], c.threshold)})
    return pd.DataFrame(rows)
