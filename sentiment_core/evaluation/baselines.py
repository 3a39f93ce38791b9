"""Baselines on the same splits as the campaign, so every LSTM number has context:
majority class, the VADER and TextBlob lexicons, and TF-IDF + logistic regression."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from ..data import lexicon_scores
from .metrics import classification_metrics


def majority_proba(y_train: np.ndarray, n: int, n_classes: int) -> np.ndarray:
    counts = np.bincount(y_train, minlength=n_classes)
    if n_classes == 2:  # a constant score: accuracy of always answering the majority, AUC 0.5
        return np.full(n, float(np.argmax(counts)))
    return np.tile(np.eye(n_classes)[np.argmax(counts)], (n, 1))


def lexicon_proba(texts: list[str], mode: str, n_classes: int) -> np.ndarray:
    """Lexicon score in [-1, 1] mapped to [0, 1] (binary), or a neutral band (3 classes)."""
    scores = lexicon_scores(texts, mode)
    band = 0.05 if mode == "vader" else 0.0  # VADER's usual neutral band
    if n_classes == 2:
        # positive only above the band: a tweet with no sentiment words (score 0) lands just
        # under the 0.5 threshold instead of on it; the ranking (ROC AUC) is unchanged
        return np.clip(0.5 + (scores - band) / 2 - 1e-9, 0.0, 1.0)
    out = np.zeros((len(texts), 3))
    out[scores < -band, 0] = 1
    out[np.abs(scores) <= band, 1] = 1
    out[scores > band, 2] = 1
    return out


def tfidf_logreg(train_texts: list[str], y_train: np.ndarray, seed: int):
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                          LogisticRegression(max_iter=2000, class_weight="balanced",
                                             random_state=seed))
    return model.fit(train_texts, y_train)


def baseline_table(texts: dict[str, pd.DataFrame], class_names: list[str],
                   seed: int) -> pd.DataFrame:
    """One row per (baseline, split) with accuracy, macro F1, ROC AUC, ... on val and test.

    `texts` holds the train/val/test frames of `data.split_texts` (columns text, clean, label).
    """
    n_classes = len(class_names)
    y_train = texts["train"]["label"].to_numpy()
    tfidf = tfidf_logreg(texts["train"]["clean"].tolist(), y_train, seed)
    rows = []
    for split in ("val", "test"):
        frame = texts[split]
        y = frame["label"].to_numpy()
        tfidf_proba = tfidf.predict_proba(frame["clean"].tolist())
        candidates = {
            "majority class": majority_proba(y_train, len(y), n_classes),
            "TextBlob lexicon": lexicon_proba(frame["text"].tolist(), "textblob", n_classes),
            "VADER lexicon": lexicon_proba(frame["text"].tolist(), "vader", n_classes),
            "TF-IDF + logistic regression": tfidf_proba[:, 1] if n_classes == 2 else tfidf_proba,
        }
        for name, proba in candidates.items():
            rows.append({"baseline": name, "split": split,
                         **classification_metrics(y, proba)})
    return pd.DataFrame(rows)
