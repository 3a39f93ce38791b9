"""Every figure the reports use is written as a real PNG."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sentiment_core.evaluation import election_table, plots

Y = np.array([0, 0, 0, 0, 1, 1, 1, 0, 1, 0])
P = np.array([0.1, 0.4, 0.35, 0.8, 0.7, 0.55, 0.2, 0.05, 0.9, 0.6])
NAMES = ["negative", "positive"]


def test_each_plot_writes_a_png(tmp_path):
    frame = pd.DataFrame({"lr": [0.01, 0.001, 0.1], "units": [4, 8, 16], "f1": [0.5, 0.7, 0.6]})
    votes = election_table([["A"], ["B"]], np.array([1, 0]), np.array([1, 1]), NAMES)
    figures = {
        "curves": plots.learning_curves({"loss": [0.6, 0.4], "val_loss": [0.5, 0.45],
                                         "binary_accuracy": [0.7, 0.8],
                                         "val_binary_accuracy": [0.72, 0.75]}),
        "confusion": plots.confusion_matrix(Y, (P >= 0.5).astype(int), NAMES),
        "roc": plots.roc(Y, P, NAMES),
        "trace": plots.optimization_trace([0, 1, 2], np.array([0.5, 0.7, 0.6]),
                                          ["Center", "Sobol", "BoTorch"], "maximize", "f1"),
        "parallel": plots.parallel_coordinates(frame, ["lr", "units"], {"lr"}, "f1"),
        "importance": plots.importance(["lr", "units"], [0.4, -0.1], "importance"),
        "election": plots.election_bars(votes),
    }
    for name, figure in figures.items():
        path = tmp_path / f"{name}.png"
        figure.savefig(path)
        plots.close(figure)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
