"""Figures logged as PNG artifacts (matplotlib, no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay  # noqa: E402


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
        # a fixed corner: loc="best" searches the data and, on a busy machine, warns on the
        # console that it "can be slow with large amounts of data"
        ax.legend(loc="upper right" if key == "loss" else "lower right")
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


def roc(y_true: np.ndarray, proba: np.ndarray, class_names: list[str], title: str = ""):
    """ROC of the positive class (binary) or one-vs-rest per class."""
    fig, ax = plt.subplots(figsize=(4.2, 3.8))
    proba = np.asarray(proba)
    if proba.ndim == 1:
        RocCurveDisplay.from_predictions(y_true, proba, name=class_names[1], ax=ax)
    else:
        for i, name in enumerate(class_names):
            RocCurveDisplay.from_predictions(y_true == i, proba[:, i], name=name, ax=ax)
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set_title(title or "ROC")
    fig.tight_layout()
    return fig


GENERATION_STYLE = {"Center": ("tab:gray", "s"), "Sobol": ("tab:blue", "o"),
                    "BoTorch": ("tab:orange", "D")}


def optimization_trace(indices, values, generations, direction: str, metric: str):
    """Objective per trial, coloured by how Ax generated it, with the best so far."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for generation, (color, marker) in GENERATION_STYLE.items():
        picked = [(i, v) for i, v, g in zip(indices, values, generations) if g == generation]
        if picked:
            ax.scatter(*zip(*picked), color=color, marker=marker, label=generation, zorder=3)
    best = np.maximum.accumulate(values) if direction == "maximize" \
        else np.minimum.accumulate(values)
    ax.step(indices, best, where="post", color="black", label="best so far")
    ax.set_xlabel("Ax trial index")
    ax.set_ylabel(metric)
    # beside the axes: any corner inside can cover a trial's point
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.grid(alpha=0.3)
    ax.set_title("optimization trace")
    fig.tight_layout()
    return fig


def parallel_coordinates(frame, params: list[str], log_scale: set[str], metric: str):
    """One line per trial across the parameters (each scaled to its observed range),
    coloured by the objective."""
    fig, ax = plt.subplots(figsize=(9, 3.8))
    scaled = {}
    for p in params:
        column = frame[p].astype(float)
        column = np.log10(column) if p in log_scale else column
        span = column.max() - column.min()
        scaled[p] = (column - column.min()) / span if span > 0 else column * 0 + 0.5
    values = frame[metric].astype(float).to_numpy()
    norm = matplotlib.colors.Normalize(vmin=np.nanmin(values), vmax=np.nanmax(values))
    colormap = plt.get_cmap("viridis")
    x = np.arange(len(params))
    for row, value in enumerate(values):
        ax.plot(x, [scaled[p].iloc[row] for p in params], color=colormap(norm(value)),
                alpha=0.8)
    ax.set_xticks(x, [p + (" (log)" if p in log_scale else "") for p in params], rotation=20,
                  fontsize=8)
    ax.set_yticks([0, 1], ["min", "max"])
    fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=colormap), ax=ax, label=metric)
    ax.set_title("parallel coordinates (each axis scaled to the trials' range)")
    fig.tight_layout()
    return fig


def importance(names: list[str], values: list[float], title: str):
    fig, ax = plt.subplots(figsize=(6, 0.45 * len(names) + 1.2))
    order = np.argsort(np.abs(values))
    ax.barh([names[i] for i in order], [values[i] for i in order], color="tab:purple")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def election_bars(table, title: str = "positive share per candidate"):
    """Predicted vs labelled positive / (positive + negative), side by side."""
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(table) + 1.5))
    y = np.arange(len(table))
    ax.barh(y - 0.2, table["predicted_ratio"], height=0.4, label="model")
    if "label_ratio" in table:
        ax.barh(y + 0.2, table["label_ratio"], height=0.4, label="labels")
    ax.set_yticks(y, table["candidate"])
    ax.set_xlim(0, 1)
    ax.set_xlabel("positive / (positive + negative)")
    ax.legend(loc="lower right")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def close(fig) -> None:
    plt.close(fig)
