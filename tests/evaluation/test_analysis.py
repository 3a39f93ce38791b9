"""Error analysis: which validation rows the model gets most confidently wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sentiment_core.evaluation import error_analysis

Y = np.array([0, 0, 0, 0, 1, 1, 1, 0, 1, 0])
P = np.array([0.1, 0.4, 0.35, 0.8, 0.7, 0.55, 0.2, 0.05, 0.9, 0.6])
NAMES = ["negative", "positive"]


def test_error_analysis_lists_confident_wrong_first():
    frame = pd.DataFrame({"row": range(10), "text": [f"t{i}" for i in range(10)],
                          "clean": [f"t{i}" for i in range(10)], "group": "", "label": Y})
    table = error_analysis(frame, P, NAMES, n=3)
    wrong = table[table["kind"] == "confident_wrong"]
    assert (wrong["true"] != wrong["predicted"]).all()
    assert wrong["row"].tolist() == [3, 6, 9]  # p 0.8 (neg), 0.2 (pos), 0.6 (neg)
    assert table[table["kind"] == "borderline"]["row"].iloc[0] == 5  # p 0.55
