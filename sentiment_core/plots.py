"""Figures logged as PNG artifacts (matplotlib, no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay  # noqa: E402


def learning_curves(history: dict[str, list[float]], title: str = ""):
    """Train vs validation loss and accuracy per epoch."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    accuracy = next((k for k in history if k.endswith("accuracy") and not k.startswith("val_")),
                    None)
    for ax, key in zip(axes, ["loss", accuracy]):
        if key is None:
            ax.set_visible(False)
            continue
        epochs = np.arange(1, len(history[key]) + 1)
        ax.plot(epochs, history[key], "o-", label="train")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], "s--", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title or "learning curves")
    fig.tight_layout()
    return fig


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, class_names: list[str],
                     title: str = ""):
    fig, ax = plt.subplots(figsize=(4.2, 3.8))
    ConfusionMatrixDisplay.from_predictions(
        y_true, y_pred, labels=list(range(len(class_names))), display_labels=class_names,
        ax=ax, colorbar=False, cmap="Blues")
    ax.set_title(title or "confusion matrix")
    fig.tight_layout()
    return fig


def close(fig) -> None:
    plt.close(fig)
