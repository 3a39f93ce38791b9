"""Seed 000's election analysis (Tables 6-7): positive / (positive + negative) per candidate,
from the model's predictions and, side by side, from the labels."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd


def candidates_by_keywords(texts: list[str], keywords: dict[str, list[str]]) -> list[list[str]]:
    """For each text, the candidates any of whose words it mentions (whole words, any case)."""
    patterns = {name: re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b",
                                 re.IGNORECASE) for name, words in keywords.items()}
    return [[name for name, p in patterns.items() if p.search(text)] for text in texts]


def election_table(candidates: list[list[str]], predicted: np.ndarray,
                   labels: np.ndarray | None, class_names: list[str],
                   exclude: list[str] = ()) -> pd.DataFrame:
    """Counts of predicted (and labelled) positive and negative tweets per candidate.

    `candidates[i]` lists the candidates tweet i counts for; `predicted` and `labels` hold class
    ids. Neutral (3-class) predictions and labels count for neither side.
    """
    positive, negative = class_names.index("positive"), class_names.index("negative")
    records: dict[str, dict[str, int]] = {}
    for i, names in enumerate(candidates):
        for name in names:
            if name in exclude:
                continue
            counts = records.setdefault(name, {"tweets": 0, "predicted_positive": 0,
                                               "predicted_negative": 0, "label_positive": 0,
                                               "label_negative": 0})
            counts["tweets"] += 1
            counts["predicted_positive"] += int(predicted[i] == positive)
            counts["predicted_negative"] += int(predicted[i] == negative)
            if labels is not None:
                counts["label_positive"] += int(labels[i] == positive)
                counts["label_negative"] += int(labels[i] == negative)
    table = pd.DataFrame([{"candidate": k, **v} for k, v in records.items()])
    if table.empty:
        return table
    table["predicted_ratio"] = _ratio(table["predicted_positive"], table["predicted_negative"])
    if labels is None:
        table = table.drop(columns=["label_positive", "label_negative"])
    else:
        table["label_ratio"] = _ratio(table["label_positive"], table["label_negative"])
    return table.sort_values("tweets", ascending=False).reset_index(drop=True)


def _ratio(pos: pd.Series, neg: pd.Series) -> pd.Series:
    total = pos + neg
    return (pos / total.where(total > 0)).astype(float)
