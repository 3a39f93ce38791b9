"""The data pipeline: from a raw CSV to the arrays a trial trains on.

registry (known datasets, pinned fetch) -> readers (CSV, columns) -> cleaning (named steps) ->
labeling (human or lexicon labels) -> splits (leak-free, grouped by duplicate key and by
near_duplicates; `leakage` checks a split independently) -> vectorization (vocabulary from
train only; with folds, each fold's from its own fit rows; pretrained: GloVe words and
vectors) -> features (seed 004's engineered features from token ids) -> pipeline (`prepare`,
cached by fingerprint);
eda summarizes a labeled dataset. Knows no optimizer, tracker or model.
"""

from ..config import ExperimentConfig
from ..errors import InputError
from . import labeling
from .batching import bucket_boundaries, bucketed_batches, token_lengths
from .cleaning import STEPS, duplicate_groups, duplicate_key, make_cleaner
from .eda import format_summary, summarize
from .features import FEATURE_NAMES, feature_scaler, feature_spec, token_features
from .labeling import lexicon_scores
from .leakage import format_leakage, near_copies, split_files_leakage, split_leakage
from .near_duplicates import containment_pairs
from .pipeline import (
    Labeled,
    PreparedData,
    cache_path,
    cross_validation_folds,
    load_labeled,
    load_prepared,
    prepare,
    split_rows,
    split_texts,
    train_plus_validation,
)
from .pretrained import GLOVE_DIM, embedding_matrix, glove_index
from .readers import read_csv, read_user_csv, resolve_dataset
from .registry import REGISTRY, Dataset, data_dir, fetch, sha256_of
from .splits import grouped_folds, leak_free_split
from .vectorization import build_vocabulary, vectorize


def check_data_names(experiment: ExperimentConfig, where: str) -> None:
    """The dataset and cleaning steps an experiment names exist (checked when it is loaded)."""
    datas = [("data", experiment.data)] + [(f"stages[{i}].data", stage.data)
                                           for i, stage in enumerate(experiment.stages)]
    for dotted, data in datas:
        for i, source in enumerate(data.all_sources()):
            if source.dataset != "csv" and source.dataset not in REGISTRY:
                at = f"{dotted}.sources[{i}].dataset" if data.sources else f"{dotted}.dataset"
                raise InputError(where, at, f"unknown dataset {source.dataset!r} "
                                            f"(known: csv, {', '.join(REGISTRY)})")
    for i, step in enumerate(experiment.cleaning):
        if step not in STEPS:
            raise InputError(where, f"cleaning[{i}]",
                             f"unknown step {step!r} (known: {', '.join(STEPS)})")


__all__ = [
    "FEATURE_NAMES", "GLOVE_DIM", "REGISTRY", "STEPS", "Dataset", "Labeled", "PreparedData",
    "bucket_boundaries", "bucketed_batches", "build_vocabulary", "cache_path",
    "check_data_names", "containment_pairs", "cross_validation_folds", "data_dir",
    "duplicate_groups", "duplicate_key", "embedding_matrix", "feature_scaler", "feature_spec",
    "fetch", "format_leakage", "format_summary", "glove_index", "grouped_folds", "labeling",
    "leak_free_split", "lexicon_scores", "load_labeled", "load_prepared", "make_cleaner",
    "near_copies", "prepare", "read_csv", "read_user_csv", "resolve_dataset", "sha256_of",
    "split_files_leakage", "split_leakage", "split_rows", "split_texts", "summarize",
    "token_features", "token_lengths", "train_plus_validation", "vectorize",
]
