"""Table 5: one row per trial with the seed paper's columns, best row marked."""

from __future__ import annotations

from typing import Any

import pandas as pd

# Seed 000's Table 5 (2016 election tweets, binary accuracy "keras_cv"): prior knowledge that
# `campaign run --attach-seed-table` attaches. Another dataset: these never count as best here.
SEED_TABLE5 = [
    # keras_cv, trial, learning_rate, dropout_rate, lstm, dense, epochs, batch, embedding
    (0.948100, 2, 0.022628, 0.020568, 5, 10, 1, 894, 441),
    (0.563386, 3, 0.278257, 0.015930, 2, 3, 1, 862, 645),
    (0.976257, 4, 0.006078, 0.015087, 8, 9, 6, 848, 323),
    (0.980021, 5, 0.007170, 0.045106, 10, 18, 2, 806, 173),
    (0.977114, 6, 0.000598, 0.203325, 10, 20, 7, 812, 329),
    (0.977786, 7, 0.000850, 0.085168, 10, 5, 3, 775, 287),
    (0.979464, 8, 0.001609, 0.062056, 10, 13, 5, 817, 262),
    (0.977386, 9, 0.002921, 0.043281, 9, 12, 3, 822, 256),
    (0.978686, 10, 0.001121, 0.136968, 10, 15, 3, 785, 250),
    (0.978021, 11, 0.003018, 0.066256, 8, 18, 4, 826, 300),
]
SEED_PARAMS = ("learning_rate", "dropout_rate", "lstm_units", "neurons_dense", "num_epochs",
               "batch_size", "embedding_size")


def seed_rows() -> list[tuple[str, dict[str, Any], float]]:
    """(arm name, params, keras_cv) for each Table 5 row."""
    return [(f"paper_{row[1]}_0", dict(zip(SEED_PARAMS, row[2:])), row[0])
            for row in SEED_TABLE5]


def table5(rows: list[dict[str, Any]], params: list[str], metric: str,
           best_run_id: str | None = None) -> pd.DataFrame:
    """One row per campaign trial (and attached paper row); `best_run_id` (the campaign's
    rule chooses it) is marked. `<metric>` is the trial's value (the mean over its units);
    `<metric> (model)` beside it is the logged model's own validation score (the units'
    ensemble, the model that is scored on test)."""
    records = []
    for r in rows:
        source = r["tags"].get("source", "campaign")
        if source not in ("campaign", "paper"):
            continue
        wall = (r["end_ms"] - r["start_ms"]) / 1000 if r["end_ms"] and r["start_ms"] else None
        record = {
            "best": "*" if r["run_id"] == best_run_id else "",
            metric: r["metrics"].get(metric),
            # spread over folds / seeds of a noise-aware objective (absent: one run per trial)
            "± sd": r["metrics"].get(f"{metric}_sd"),
            # the logged model's own score (the units' ensemble; out-of-fold with folds)
            f"{metric} (model)": r["metrics"].get(f"pooled_{metric}"),
            # training runs the value is the mean of (more for intensified trials)
            "units": len([u for u in r["tags"].get("units", "").split(", ") if u]) or None,
            "best_epoch": r["metrics"].get("best_epoch"),
            "trial_index": int(r["tags"].get("ax_trial_index", -1)),
            "arm_name": r["tags"].get("arm_name", ""),
            **{p: _number(r["params"].get(p)) for p in params},
            "status": r["tags"].get("ax_status") or r["status"],
            "generation": r["tags"].get("generation", ""),
            "wall_s": round(wall, 1) if wall is not None and source == "campaign" else None,
        }
        if source == "paper":
            record["paper_keras_cv"] = r["metrics"].get("paper_keras_cv")
        records.append(record)
    frame = pd.DataFrame(records)
    if frame.empty:
        return frame
    for optional in ("± sd", f"{metric} (model)", "units", "best_epoch"):
        if frame[optional].isna().all():
            frame = frame.drop(columns=optional)
    if "units" in frame and frame["units"].dropna().nunique() <= 1:
        frame = frame.drop(columns="units")  # shown where trials differ (intensification)
    return frame.sort_values("trial_index").reset_index(drop=True)


def format_table(frame: pd.DataFrame, fmt: str = "text") -> str:
    if frame.empty:
        return "(no trials yet)"
    if fmt == "csv":
        return frame.to_csv(index=False)
    shown = frame.astype(object).where(frame.notna(), "")
    for column in shown.columns:
        if column.startswith(("val_", "paper_")) or column in ("learning_rate", "dropout_rate",
                                                                "± sd"):
            shown[column] = [f"{v:.6f}" if isinstance(v, float) else v for v in shown[column]]
        elif column == "best_epoch":
            shown[column] = [epoch_text(v) for v in shown[column]]
        elif column == "units":
            shown[column] = [int(v) if isinstance(v, float) else v for v in shown[column]]
    if fmt == "markdown":
        return shown.to_markdown(index=False)
    return shown.to_string(index=False)


def epoch_text(value: Any) -> str:
    """An epoch as an epoch: 3, or the mean over a trial's folds / seeds with one decimal."""
    if not isinstance(value, (int, float)) or pd.isna(value):
        return "" if value is None or (isinstance(value, float) and pd.isna(value)) \
            else str(value)
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def readable_table5(frame: pd.DataFrame) -> pd.DataFrame:
    """Table 5 as text to read on a page: scores with 4 decimals, parameters with 3
    significant digits, epochs as epochs (the CSV and the tracker keep the exact values)."""
    shown = frame.astype(object).where(frame.notna(), None)
    for column in shown.columns:
        if column == "best_epoch":
            rule = epoch_text
        elif column.startswith(("val_", "paper_", "test_")) or column == "± sd":
            rule = (lambda v: f"{v:.4f}")
        elif column == "wall_s":
            rule = (lambda v: f"{v:.1f}")
        else:  # a parameter: 894, 0.00707, 0.258
            rule = (lambda v: str(int(v)) if v.is_integer() else f"{v:.3g}")
        shown[column] = ["" if v is None else rule(v) if isinstance(v, float) else str(v)
                         for v in shown[column]]
    return shown


def _number(text: str | None) -> Any:
    if text is None:
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return text
