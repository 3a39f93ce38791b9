"""Reading CSV files: an experiment's dataset (registry entry plus YAML overrides) and files
given on the command line, with one clear error for a missing file, column or label."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import SENTIMENTS, ExperimentConfig
from ..errors import InputError
from .registry import REGISTRY, Dataset, locate


def resolve_dataset(experiment: ExperimentConfig, directory: Path) -> tuple[Dataset, Path]:
    """The dataset description with the experiment's overrides, and its file path."""
    d = experiment.data
    if d.dataset == "csv":
        base = Dataset(name="csv", filename=d.path, sha256="", text_column=d.text_column,
                       label_column=d.label_column, label_mapping=d.label_mapping or {},
                       group_column=d.group_column)
        path = Path(d.path) if Path(d.path).is_absolute() else directory / d.path
        if not path.exists():
            raise InputError(path, None, f"missing: not found in DATA_DIR={directory}")
        return base, path
    base = REGISTRY[d.dataset]
    overrides = {k: v for k, v in {
        "text_column": d.text_column, "label_column": d.label_column,
        "group_column": d.group_column, "label_mapping": d.label_mapping}.items() if v}
    merged = Dataset(**{**base.__dict__, **overrides})
    return merged, locate(merged, directory)


def read_csv(path: Path, dataset: Dataset, max_rows: int | None = None) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=max_rows)
    except UnicodeDecodeError:
        raise InputError(path, None, "not UTF-8 text (convert it to UTF-8)") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InputError(path, None, f"not a readable CSV ({str(err).splitlines()[0]})") from None
    for role in ("text_column", "label_column", "group_column"):
        column = getattr(dataset, role)
        if column and column not in frame.columns:
            raise InputError(path, column, f"no such column ({role}; the file has: "
                                           f"{', '.join(frame.columns)})")
    return frame


def read_user_csv(path: Path, text_col: str, label_col: str | None, group_col: str | None,
                  label_map: tuple[str, ...], class_names: list[str]) -> pd.DataFrame:
    """A CSV given on the command line, as columns text (+ group) (+ label ids).

    `label_map` items are RAW=SENTIMENT (comma-separated or repeated); labels already named
    negative/neutral/positive need none. Rows whose sentiment is not one of the model's classes
    (neutral for a binary model, drop) are left out.
    """
    mapping = {}
    for item in ",".join(label_map).split(","):
        if item.strip():
            raw, sep, sentiment = item.partition("=")
            if not sep or sentiment.strip() not in (*SENTIMENTS, "drop"):
                raise InputError("--label-map", item,
                                 "expected RAW=negative|neutral|positive|drop")
            mapping[raw.strip()] = sentiment.strip()
    spec = Dataset("cli", path.name, "", text_col, label_col or "", {}, group_col)
    frame = read_csv(path, spec)
    result = pd.DataFrame({"text": frame[text_col].astype(str)})
    if group_col:
        result["group"] = frame[group_col].astype(str)
    if label_col:
        sentiments = frame[label_col].astype(str).map(lambda v: mapping.get(v, v.strip().lower()))
        unknown = sorted(set(sentiments) - {*SENTIMENTS, "drop"})
        if unknown:
            raise InputError(path, label_col, f"labels {unknown[:5]} need --label-map "
                                              "RAW=negative|neutral|positive|drop")
        result["label"] = [class_names.index(s) if s in class_names else -1 for s in sentiments]
        result = result[result["label"] >= 0].reset_index(drop=True)
        if result["label"].nunique() < 2:
            raise InputError(path, label_col, "fewer than two of the model's classes remain")
    return result
