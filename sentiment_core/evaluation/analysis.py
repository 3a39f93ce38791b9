"""Error analysis (seed 003): the most confident wrong predictions and the borderline ones."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import predictions


def error_analysis(frame: pd.DataFrame, proba: np.ndarray, class_names: list[str],
                   threshold: float = 0.5, n: int = 25) -> pd.DataFrame:
    """`frame` holds the split's rows (text, clean, group, label) in the order of `proba`.

    confident_wrong: wrong answers, furthest from the decision boundary first.
    borderline: any answer, closest to the boundary first.
    """
    proba = np.asarray(proba)
    predicted = predictions(proba, threshold)
    if proba.ndim == 1:
        margin = np.abs(proba - threshold)
        scores = {f"p_{class_names[1]}": proba}
    else:
        top2 = np.sort(proba, axis=1)[:, -2:]
        margin = top2[:, 1] - top2[:, 0]
        scores = {f"p_{name}": proba[:, i] for i, name in enumerate(class_names)}
    table = pd.DataFrame({
        "row": frame["row"].to_numpy(), "text": frame["text"].to_numpy(),
        "clean": frame["clean"].to_numpy(), "group": frame["group"].to_numpy(),
        "true": [class_names[i] for i in frame["label"]],
        "predicted": [class_names[i] for i in predicted], **scores, "margin": margin})
    wrong = table[table["true"] != table["predicted"]].sort_values("margin", ascending=False)
    borderline = table.sort_values("margin")
    return pd.concat([wrong.head(n).assign(kind="confident_wrong"),
                      borderline.head(n).assign(kind="borderline")], ignore_index=True)[
        ["kind", *table.columns]]
