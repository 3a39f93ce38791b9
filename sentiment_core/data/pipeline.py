"""From raw CSVs to the arrays a trial trains on, cached by fingerprint.

    labeled = load_labeled(experiment, data_dir)      # cleaned text, class ids, groups, stats
    data = prepare(experiment, data_dir, cache_dir)   # PreparedData (vectorized splits)
    stage = prepare(stage_experiment, data_dir, cache_dir, vocabulary=parent_vocabulary)

An experiment's data are one file or several sources, each read with its own columns and label
mapping and combined before the split; a text present in several sources is kept once (from the
first source listing it). The cache key covers every file's sha256, the column/label choices, the
cleaning steps, the split and the vectorization (or the given vocabulary), so no trial and no
later campaign tokenizes the same data twice.

The cache of a fingerprint is a folder `cache_path(cache_dir, fingerprint)` of uncompressed .npy
files, written whole under a temporary name and then renamed (never half a cache), and read back
memory-mapped: loading costs no copy and worker processes share the pages.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import ExperimentConfig, to_dict
from ..errors import InputError
from . import labeling
from .cleaning import clean_all, duplicate_groups
from .pretrained import INDEX, glove_dir, glove_index
from .readers import read_csv, resolve_sources
from .registry import sha256_of
from .splits import grouped_folds, leak_free_split

CACHE_VERSION = 4  # bump when the prepared arrays, the split or the cache layout change
# (3: .npy folder; 4: near-duplicate groups)


@dataclass
class Labeled:
    """One row per kept example, with what inspection, splitting and analysis need."""

    frame: pd.DataFrame  # columns: row, text, clean, key, label, group, source
    class_names: list[str]
    source: Path  # the (first) file
    file_sha256: str  # its sha256; several sources: a digest of every file's sha256
    counts: dict[str, int]  # rows read / dropped at each filter
    files: dict[str, str] = field(default_factory=dict)  # every file -> its sha256


@dataclass
class PreparedData:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    vocabulary: list[str]  # index i <-> token; 0 is padding, 1 out-of-vocabulary
    class_names: list[str]
    fingerprint: str
    rows: dict[str, np.ndarray] = field(default_factory=dict)  # file row numbers per split
    keys: dict[str, np.ndarray] = field(default_factory=dict)  # duplicate-group id per row
    # folds: a token enters a fold's vocabulary when its fit rows hold it this often (None: the
    # vocabulary was given, a parent's, and folds keep it whole)
    fold_min_count: int | None = None
    # a fold view: which ids of `vocabulary` its own fit rows know (others read as out-of-vocab)
    token_keep: np.ndarray | None = None
    prepare_seconds: float = 0.0
    from_cache: bool = False

    @property
    def sequence_length(self) -> int:
        return int(self.x_train.shape[1])


def load_labeled(experiment: ExperimentConfig, directory: Path) -> Labeled:
    """Every source read, cleaned and labeled, combined; rows numbered across sources (`row`
    is the position in the first file, then in the next, ...); duplicate groups over all of
    them; cross-source duplicates removed; unlabeled and empty rows dropped."""
    sources = resolve_sources(experiment.data, directory)
    parts, counts, files = [], {"rows_read": 0}, {}
    for number, (dataset, path, max_rows) in enumerate(sources):
        part = _read_source(experiment, dataset, path, max_rows)
        part["row"] += counts["rows_read"]
        part["source"] = dataset.name if dataset.name != "csv" else path.name
        counts["rows_read"] += len(part)
        if len(sources) > 1:
            counts[f"rows_read_{part['source'].iloc[0]}"] = len(part)
        files[str(path)] = sha256_of(path)
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    frame.insert(3, "key", duplicate_groups(frame["text"], frame["clean"])
                 if experiment.split.group_duplicates else np.arange(len(frame)))
    kept_label = frame["label"] != labeling.DROPPED
    counts["dropped_label"] = int((~kept_label).sum())
    kept_text = frame["clean"].str.len() > 0
    counts["dropped_empty_text"] = int((kept_label & ~kept_text).sum())
    frame = frame[kept_label & kept_text].reset_index(drop=True)
    if len(sources) > 1 and experiment.data.deduplicate:
        order = frame["source"].map({name: i for i, name in
                                     enumerate(dict.fromkeys(frame["source"]))})
        first = order.groupby(frame["key"]).transform("min")
        counts["dropped_cross_source_duplicates"] = int((order != first).sum())
        frame = frame[order == first].reset_index(drop=True)
    counts["rows_kept"] = len(frame)
    class_names = labeling.CLASS_NAMES[experiment.labels.classes]
    present = sorted(set(frame["label"]))
    if len(present) < 2:
        left = ", ".join(class_names[i] for i in present) or "none"
        raise InputError(sources[0][1], sources[0][0].label_column,
                         f"only one class left after filtering ({left}); need at least two")
    first_path = sources[0][1]
    digest = (files[str(first_path)] if len(files) == 1 else
              hashlib.sha256(json.dumps(sorted(files.values())).encode()).hexdigest())
    return Labeled(frame, class_names, first_path, digest, counts, files)


def _read_source(experiment: ExperimentConfig, dataset, path: Path,
                 max_rows: int | None) -> pd.DataFrame:
    """One file as columns row, text, clean, label (DROPPED where unusable), group."""
    raw = read_csv(path, dataset, max_rows)
    texts = raw[dataset.text_column].astype(str)
    if (texts.str.strip() == "").all():
        raise InputError(path, dataset.text_column, "every text is empty")
    clean = pd.Series(clean_all(texts.tolist(), experiment.cleaning), index=texts.index)
    labels_cfg = experiment.labels
    if labels_cfg.mode == "human":
        raw_labels = raw[dataset.label_column]
        unknown = sorted(set(raw_labels) - set(dataset.label_mapping))
        if unknown:
            raise InputError(path, dataset.label_column,
                             f"label values {unknown[:5]} are not in label_mapping "
                             f"{sorted(dataset.label_mapping)}")
        sentiments = raw_labels.map(dataset.label_mapping).tolist()
    else:
        sentiments = labeling.lexicon_sentiments(texts.tolist(), labels_cfg.mode,
                                                 labels_cfg.vader_threshold)
    return pd.DataFrame({
        "row": np.arange(len(raw)), "text": texts, "clean": clean,
        "label": labeling.class_ids(sentiments, labels_cfg.classes),
        "group": raw[dataset.group_column] if dataset.group_column else "",
    })


def split_rows(experiment: ExperimentConfig,
               labeled: Labeled) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions in `labeled.frame` of the train, validation and test rows (what `prepare`
    vectorizes; no TensorFlow needed)."""
    frame, s = labeled.frame, experiment.split
    try:
        return leak_free_split(frame["key"].tolist(), frame["label"].to_numpy(),
                               s.validation, s.test, experiment.seed)
    except ValueError:
        raise InputError(experiment.path, "split",
                         f"{len(frame)} rows of {labeled.source.name} are too few for validation "
                         f"{s.validation} and test {s.test} with every class on each side") \
            from None


def split_texts(experiment: ExperimentConfig, directory: Path,
                data: PreparedData) -> dict[str, pd.DataFrame]:
    """Raw and cleaned text, group and label of each split's rows, in the arrays' order."""
    frame = load_labeled(experiment, directory).frame.set_index("row")
    return {split: frame.loc[rows].reset_index() for split, rows in data.rows.items()}


def fingerprint(experiment: ExperimentConfig, file_sha256: str | list[str],
                vocabulary: list[str] | None = None) -> str:
    """The cache key: every file's sha256 (one string for a single file, as before sources
    existed, so older caches and recorded fingerprints still match), the data, label, cleaning,
    split and vectorization settings, the seed, and a given vocabulary's digest."""
    data = to_dict(experiment.data)
    if not experiment.data.sources:  # a single file: the dict older versions hashed
        data.pop("sources")
        data.pop("deduplicate")
    inputs = {
        "version": CACHE_VERSION, "file_sha256": file_sha256,
        "data": data, "labels": to_dict(experiment.labels),
        "cleaning": list(experiment.cleaning), "split": to_dict(experiment.split),
        "vectorization": to_dict(experiment.vectorization), "seed": experiment.seed,
    }
    if _folds(experiment):  # the vocabulary then comes from train + validation
        inputs["vocabulary_rows"] = "train+val"
    if not experiment.vectorization.pretrained_words:  # the dict older versions hashed
        inputs["vectorization"].pop("pretrained_words")
    else:  # the words the vocabulary may take: GloVe's index
        inputs["pretrained_index_sha256"] = sha256_of(glove_dir() / INDEX)
    if vocabulary is not None:
        inputs["vocabulary_sha256"] = hashlib.sha256("\n".join(vocabulary).encode()).hexdigest()
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def prepare(experiment: ExperimentConfig, directory: Path, cache_dir: Path | None,
            progress=lambda message: None, vocabulary: list[str] | None = None) -> PreparedData:
    """Load, clean, label, split and vectorize; reuse the cached arrays when their inputs match.

    `vocabulary` (a parent model's, for fine-tuning) replaces the one built from the train
    split: the texts are read exactly as the parent reads them."""
    start = time.perf_counter()
    paths = [path for _, path, _ in resolve_sources(experiment.data, directory)]
    shas = [sha256_of(path) for path in paths]
    key = fingerprint(experiment, shas[0] if len(shas) == 1 else shas, vocabulary)
    names = " + ".join(path.name for path in paths)
    cached = cache_path(cache_dir, key) if cache_dir else None
    if cached and cached.exists():
        data = _load_cache(cached, key)
        data.prepare_seconds = time.perf_counter() - start
        progress(f"data: {names} from cache {key} ({len(data.y_train)} train / "
                 f"{len(data.y_val)} val / {len(data.y_test)} test)")
        return data
    progress(f"data: reading and cleaning {names}")
    labeled = load_labeled(experiment, directory)
    frame = labeled.frame
    train, val, test = split_rows(experiment, labeled)
    progress(f"data: vectorizing {len(train)} train / {len(val)} val / {len(test)} test rows")
    from .vectorization import build_vocabulary, vectorize  # imports TensorFlow

    v = experiment.vectorization
    fold_min_count = None
    if vocabulary is None:
        # with folds every train + validation row trains some fold: the ids cover them all,
        # and each fold keeps only the tokens of its own fit rows (`cross_validation_folds`)
        pool = np.concatenate([train, val]) if _folds(experiment) else train
        vocabulary = build_vocabulary(frame["clean"].iloc[pool], v.max_tokens, v.min_count,
                                      glove_index() if v.pretrained_words else None,
                                      v.pretrained_words)
        fold_min_count = v.min_count
    if len(vocabulary) <= 2:
        raise InputError(experiment.path, "vectorization.min_count",
                         "leaves no token in the vocabulary")
    # each split straight into its own matrix, in chunks: no matrix of every row, no text list
    clean = frame["clean"]
    x_train, x_val, x_test = (vectorize(clean.iloc[part], vocabulary, v.sequence_length)
                              for part in (train, val, test))
    y = frame["label"].to_numpy()
    rows, groups = frame["row"].to_numpy(), frame["key"].to_numpy()
    data = PreparedData(
        x_train, y[train], x_val, y[val], x_test, y[test], vocabulary, labeled.class_names,
        key, rows={"train": rows[train], "val": rows[val], "test": rows[test]},
        keys={"train": groups[train], "val": groups[val], "test": groups[test]},
        fold_min_count=fold_min_count)
    if cached:
        _save_cache(cached, data)
    data.prepare_seconds = time.perf_counter() - start
    return data


def cross_validation_folds(data: PreparedData, k: int, seed: int) -> list[PreparedData]:
    """K views of train + validation for a cross-validated objective: each fold fits on K-1
    parts and validates on the held-out part. Duplicate groups never cross a fold; the test
    split is carried along untouched and never joins a fold. Each fold's vocabulary comes from
    its own fit rows (`token_keep`; `trial.run_trial` reads the other ids as out-of-vocabulary):
    a word seen only in held-out rows is unknown to the fold, as a new word is to a model."""
    x = np.concatenate([data.x_train, data.x_val])
    y = np.concatenate([data.y_train, data.y_val])
    rows = np.concatenate([data.rows["train"], data.rows["val"]])
    keys = np.concatenate([data.keys["train"], data.keys["val"]])
    try:
        parts = grouped_folds(keys, y, k, seed)
    except ValueError as err:
        raise InputError("objective.folds", str(k), f"cannot make {k} folds: {err}") from None
    return [dataclasses.replace(
        data, x_train=x[fit], y_train=y[fit], x_val=x[held], y_val=y[held],
        rows={**data.rows, "train": rows[fit], "val": rows[held]},
        keys={**data.keys, "train": keys[fit], "val": keys[held]},
        token_keep=fold_vocabulary(x[fit], len(data.vocabulary), data.fold_min_count))
        for fit, held in parts]


def fold_vocabulary(x_fit: np.ndarray, size: int, min_count: int | None) -> np.ndarray | None:
    """Which token ids a fold knows: those its own fit rows hold at least `min_count` times
    (counted over what the model reads, the first sequence_length tokens), padding and
    out-of-vocabulary always. None (all) when the vocabulary was given (a parent's)."""
    if min_count is None:
        return None
    keep = np.bincount(np.asarray(x_fit).ravel(), minlength=size) >= min_count
    keep[:2] = True
    return keep


def _folds(experiment: ExperimentConfig) -> bool:
    return experiment.objective.folds > 1


def train_plus_validation(data: PreparedData) -> PreparedData:
    """The refit's view: train and validation rows as one training split, no validation rows
    (a fixed epoch count needs none), the test split carried along untouched and unused. The
    vocabulary stays the train split's (the model's inputs are those the campaign tuned on)."""
    def joined(name: str) -> dict[str, np.ndarray]:
        parts = getattr(data, name)
        if "train" not in parts:
            return dict(parts)
        return {**parts, "train": np.concatenate([parts["train"], parts["val"]]),
                "val": parts["val"][:0]}

    return dataclasses.replace(
        data, x_train=np.concatenate([data.x_train, data.x_val]),
        y_train=np.concatenate([data.y_train, data.y_val]), x_val=data.x_val[:0],
        y_val=data.y_val[:0], rows=joined("rows"), keys=joined("keys"))


def cache_path(cache_dir: Path, key: str) -> Path:
    """Where `prepare` keeps the arrays of fingerprint `key` under `cache_dir` (a folder; what
    `load_prepared` reads)."""
    return Path(cache_dir) / key


_SPLITS = ("train", "val", "test")


def _save_cache(path: Path, data: PreparedData) -> None:
    """Every array as an uncompressed .npy file in a temporary folder beside `path`, then the
    folder renamed to `path` in one step: a reader sees the whole cache or none. When another
    process renamed its own first, that one is kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f"{path.name}.partial-", dir=path.parent))
    try:
        arrays = {"x_train": data.x_train, "y_train": data.y_train, "x_val": data.x_val,
                  "y_val": data.y_val, "x_test": data.x_test, "y_test": data.y_test,
                  "vocabulary": np.array(data.vocabulary, dtype=str),
                  "class_names": np.array(data.class_names, dtype=str),
                  **{f"rows_{s}": data.rows[s] for s in _SPLITS},
                  **{f"keys_{s}": data.keys[s] for s in _SPLITS},
                  "fold_min_count": np.array([-1 if data.fold_min_count is None
                                              else data.fold_min_count])}
        for name, array in arrays.items():
            np.save(partial / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        try:
            os.rename(partial, path)
        except OSError:  # the same fingerprint was cached meanwhile: same arrays, keep those
            if not path.is_dir():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def load_prepared(path: Path) -> PreparedData:
    """The prepared arrays of a cache folder `cache_path(cache, fingerprint)` (what a worker
    process trains on, loaded once), memory-mapped read-only."""
    return _load_cache(Path(path), Path(path).name)


def _load_cache(path: Path, key: str) -> PreparedData:
    def array(name: str, mmap: bool = True) -> np.ndarray:
        return np.load(path / f"{name}.npy", mmap_mode="r" if mmap else None,
                       allow_pickle=False)

    min_count = int(array("fold_min_count", False)[0])
    return PreparedData(
        array("x_train"), array("y_train"), array("x_val"), array("y_val"), array("x_test"),
        array("y_test"), array("vocabulary", False).tolist(),
        array("class_names", False).tolist(), key,
        rows={s: array(f"rows_{s}") for s in _SPLITS},
        keys={s: array(f"keys_{s}") for s in _SPLITS},
        fold_min_count=None if min_count < 0 else min_count, from_cache=True)
