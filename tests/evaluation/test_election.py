"""Positive share per candidate, counted by hand."""

from __future__ import annotations

import numpy as np
import pytest

from sentiment_core.evaluation import candidates_by_keywords, election_table

NAMES = ["negative", "positive"]


def test_election_label_side_equals_a_hand_count():
    # tweet:      0    1    2    3       4    5    6
    candidates = [["Trump"], ["Trump"], ["Clinton"], ["Trump", "Clinton"], ["Clinton"],
                  ["Trump"], ["None"]]
    labels = np.array([1, 0, 1, 1, 0, 1, 0])
    predicted = np.array([1, 1, 0, 1, 0, 0, 0])
    table = election_table(candidates, predicted, labels, NAMES, exclude=["None"])
    rows = table.set_index("candidate")
    # by hand: Trump tweets 0,1,3,5 -> labels 1,0,1,1; Clinton 2,3,4 -> labels 1,1,0
    assert rows.loc["Trump", ["label_positive", "label_negative"]].tolist() == [3, 1]
    assert rows.loc["Clinton", ["label_positive", "label_negative"]].tolist() == [2, 1]
    assert rows.loc["Trump", "label_ratio"] == 0.75
    assert rows.loc["Trump", ["predicted_positive", "predicted_negative"]].tolist() == [3, 1]
    assert rows.loc["Clinton", "predicted_ratio"] == pytest.approx(1 / 3)
    assert "None" not in rows.index


def test_keyword_rules_assign_candidates():
    found = candidates_by_keywords(["Hillary rocks", "TRUMP and Clinton", "nobody"],
                                   {"Clinton": ["hillary", "clinton"], "Trump": ["trump"]})
    assert found == [["Clinton"], ["Clinton", "Trump"], []]
