"""Evaluation: what a model's predictions are worth and how they are shown.

metrics (scikit-learn scores at a threshold), plots (PNG figures), baselines (majority, lexicons,
TF-IDF + logistic regression), analysis (error analysis), election (positive share per
candidate), tables (seed 000's Table 5), predictor (a model that reads raw text).
Knows no optimizer or tracker.
"""

from . import plots
from .analysis import error_analysis
from .baselines import baseline_table, lexicon_proba
from .election import candidates_by_keywords, election_table
from .metrics import (
    classification_metrics,
    evaluation,
    flat_metrics,
    one_per_group,
    optimal_threshold,
    per_tweet_metrics,
    predictions,
)
from .predictor import TextClassifier
from .tables import format_table, readable_table5, seed_rows, table5

__all__ = [
    "TextClassifier", "baseline_table", "candidates_by_keywords",
    "classification_metrics", "election_table", "error_analysis", "evaluation", "flat_metrics",
    "format_table", "lexicon_proba", "one_per_group", "optimal_threshold", "per_tweet_metrics",
    "plots", "predictions", "readable_table5", "seed_rows", "table5",
]
