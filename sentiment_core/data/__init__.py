"""The data pipeline: from a raw CSV to the arrays a trial trains on.

registry (known datasets, pinned fetch) -> readers (CSV, columns) -> cleaning (named steps) ->
labeling (human or lexicon labels) -> splits (leak-free, grouped by duplicate key) ->
vectorization (vocabulary from train only) -> pipeline (`prepare`, cached by fingerprint);
eda summarizes a labeled dataset. Knows no optimizer, tracker or model.
"""

from ..config import ExperimentConfig
from ..errors import InputError
from . import labeling
from .cleaning import STEPS, duplicate_groups, duplicate_key, make_cleaner
from .eda import format_summary, summarize
from .labeling import lexicon_scores
from .pipeline import Labeled, PreparedData, cross_validation_folds, load_labeled, \
    load_prepared, prepare, split_texts
from .readers import read_user_csv
from .registry import REGISTRY, Dataset, data_dir, fetch, sha256_of
from .splits import leak_free_split
from .vectorization import build_vocabulary, vectorize


def check_data_names(experiment: ExperimentConfig, where: str) -> None:
    """The dataset and cleaning steps an experiment names exist (checked when it is loaded)."""
    dataset = experiment.data.dataset
    if dataset != "csv" and dataset not in REGISTRY:
        raise InputError(where, "data.dataset", f"unknown dataset {dataset!r} "
                                                f"(known: csv, {', '.join(REGISTRY)})")
    for i, step in enumerate(experiment.cleaning):
        if step not in STEPS:
            raise InputError(where, f"cleaning[{i}]",
                             f"unknown step {step!r} (known: {', '.join(STEPS)})")


__all__ = [
    "REGISTRY", "STEPS", "Dataset", "Labeled", "PreparedData", "build_vocabulary",
    "check_data_names", "cross_validation_folds", "load_prepared", "data_dir", "duplicate_groups", "duplicate_key", "fetch", "format_summary", "labeling",
    "leak_free_split", "lexicon_scores", "load_labeled", "make_cleaner", "prepare",
    "read_user_csv", "sha256_of", "split_texts", "summarize", "vectorize",
]
