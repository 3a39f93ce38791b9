"""Turn raw labels into class ids: human labels through a mapping, or seed 000's weak labels.

Weak labels follow the seed paper: TextBlob polarity > 0 is positive, < 0 negative, 0 neutral
(dropped in binary mode). VADER's compound score is the alternative lexicon.
"""

from __future__ import annotations

import numpy as np

CLASS_NAMES = {"binary": ["negative", "positive"], "three": ["negative", "neutral", "positive"]}
DROPPED = -1


def class_ids(sentiments: list[str], classes: str) -> np.ndarray:
    """negative/neutral/positive/drop -> class ids; rows to drop get -1."""
    names = CLASS_NAMES[classes]
    return np.array([names.index(s) if s in names else DROPPED for s in sentiments], dtype=np.int64)


def lexicon_sentiments(texts: list[str], mode: str, vader_threshold: float = 0.05) -> list[str]:
    scores = lexicon_scores(texts, mode)
    threshold = vader_threshold if mode == "vader" else 0.0
    return ["positive" if s > threshold else "negative" if s < -threshold else "neutral"
            for s in scores]


def lexicon_scores(texts: list[str], mode: str) -> np.ndarray:
    """TextBlob polarity or VADER compound, each in [-1, 1]."""
    if mode == "textblob":
        from textblob import TextBlob

        return np.array([TextBlob(t).sentiment.polarity for t in texts])
    if mode == "vader":
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        analyzer = SentimentIntensityAnalyzer()
        return np.array([analyzer.polarity_scores(t)["compound"] for t in texts])
    raise ValueError(f"unknown lexicon {mode!r}")
