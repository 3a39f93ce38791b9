"""Scoring, one path for every caller: the validation details a trial logs, the baselines, and
the test split, read for scoring here alone. "Score once, record why": a model's test metrics
are logged once, with the tag `test_scored` saying why (winner: the campaign's chosen model;
refit: the chosen model retrained on train + validation, scored in the winner's place; stage: a
stage's own test split; explicit: `reproduce --score-test` on another trial); the
campaign's parent counts its scorings of the test split (`test_scorings`)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ... import tags as T
from ...config import ExperimentConfig
from ...data import PreparedData, split_texts
from ...evaluation import (
    TextClassifier,
    baseline_table,
    evaluation,
    flat_metrics,
    optimal_threshold,
    per_tweet_metrics,
)
from ..store.paths import Store
from ..store.tracking import Tracker

WINNER, REFIT, STAGE, EXPLICIT = "winner", "refit", "stage", "explicit"  # why a model met test


def validation_details(y_true: np.ndarray, proba: np.ndarray, class_names: list[str],
                       prefix: str = "val_") -> dict[str, float]:
    """Per-class validation scores at 0.5 and, for binary models, at the validation-optimal
    threshold (`val_at_opt_*`, with `val_opt_threshold`; other prefixes alike)."""
    out = flat_metrics(evaluation(y_true, proba, class_names), prefix)
    if len(class_names) == 2:
        threshold = optimal_threshold(y_true, proba)
        out[f"{prefix}opt_threshold"] = threshold
        out.update(flat_metrics(evaluation(y_true, proba, class_names, threshold),
                                prefix.replace("val_", "val_at_opt_")))
    return out


def test_proba(classifier: TextClassifier, data: PreparedData) -> np.ndarray:
    """The model's probabilities on the test split (the arrays the campaign trained beside)."""
    return classifier.predict_ids(data.x_test)


def test_evaluations(classifier: TextClassifier, data: PreparedData,
                     proba: np.ndarray | None = None) -> dict[str, dict]:
    """The test split at 0.5 and, for a binary model, at its stored threshold (chosen on
    validation)."""
    proba = test_proba(classifier, data) if proba is None else proba
    names = data.class_names
    out = {"test @ 0.5": evaluation(data.y_test, proba, names)}
    if len(names) == 2:
        out[f"test @ {classifier.threshold:.2f} (val-chosen)"] = evaluation(
            data.y_test, proba, names, classifier.threshold)
    return out


def test_metrics(classifier: TextClassifier, data: PreparedData) -> dict[str, float]:
    """`test_*` per row and `test_tweets_*` per duplicate group (each tweet once, its copies
    not: see `one_per_group`); `*_at_opt_*` at the validation-chosen threshold."""
    proba = test_proba(classifier, data)
    evals = list(test_evaluations(classifier, data, proba).values())
    metrics = flat_metrics(evals[0], "test_")
    if len(evals) > 1:
        metrics.update(flat_metrics(evals[1], "test_at_opt_"))
    keys = data.keys.get("test", ())
    if len(keys) == len(data.y_test):
        metrics.update({f"test_tweets_{k}": v for k, v in
                        per_tweet_metrics(keys, data.y_test, proba).items()})
        metrics["test_tweets_count"] = float(len(np.unique(keys)))
        if len(evals) > 1:
            metrics.update({f"test_tweets_at_opt_{k}": v for k, v in per_tweet_metrics(
                keys, data.y_test, proba, classifier.threshold).items()})
    return metrics


def score_on_test(tracker: Tracker, run_id: str, classifier: TextClassifier,
                  data: PreparedData, why: str) -> dict[str, float]:
    """Score a model on the test split once and log it on its run, tagged with why; a run
    scored before keeps its first scores (they are returned)."""
    run = tracker.client.get_run(run_id)
    if run.data.tags.get(T.TEST_SCORED) in (WINNER, REFIT, STAGE, EXPLICIT) \
            or "test_macro_f1" in run.data.metrics:  # stores before this tag: scored too
        return {k: v for k, v in run.data.metrics.items() if k.startswith("test_")}
    metrics = test_metrics(classifier, data)
    tracker.log_metrics(run_id, metrics)
    tracker.set_tags(run_id, {T.TEST_SCORED: why})
    return metrics


def score_winner(tracker: Tracker, parent_id: str, best: dict[str, Any], data: PreparedData,
                 progress: Callable[[str], None], refit: tuple[str, Any] | None = None) -> None:
    """The campaign's chosen winner (chosen on validation before this; nothing is chosen by
    test score after it) on the test split; with `refit` = (run id, classifier), the winner
    retrained on train + validation is scored in its place (the tuned-split model is not). A
    resumed campaign whose winner changed scores the new one as a further scoring: the parent
    counts them and keeps each as a step of its `test_*` metrics."""
    tags = T.CampaignTags.of(tracker.client.get_run(parent_id).data.tags)
    run_id, why = (refit[0], REFIT) if refit else (best["run_id"], WINNER)
    if tags.test_scored_run_id == run_id:
        return
    classifier = refit[1] if refit else tracker.load_classifier(run_id)
    if classifier is None:
        return
    metrics = score_on_test(tracker, run_id, classifier, data, why)
    scorings = tags.test_scorings + 1
    tracker.log_metrics(parent_id, metrics, step=scorings)
    index = best["tags"][T.AX_TRIAL_INDEX]
    tracker.set_tags(parent_id, {T.TEST_SCORED_RUN_ID: run_id,
                                 T.TEST_SCORED_TRIAL: index, T.TEST_SCORINGS: scorings})
    again = (f"; scoring {scorings} of this campaign's test split (a resume found a new "
             "winner)") if scorings > 1 else ", scored once"
    what = "refit of winner trial" if refit else "winner trial"
    tweets = "" if "test_tweets_count" not in metrics else (
        f"; its {metrics['test_tweets_count']:.0f} distinct tweets, each once: macro F1 "
        f"{metrics['test_tweets_macro_f1']:.4f}, ROC AUC {metrics['test_tweets_roc_auc']:.4f}")
    progress(f"{what} {index} on the held-out test split{again}: "
             f"macro F1 {metrics['test_macro_f1']:.4f}, ROC AUC {metrics['test_roc_auc']:.4f}"
             + tweets)


BASELINE_SLUGS = {"majority class": "majority", "TextBlob lexicon": "textblob",
                  "VADER lexicon": "vader", "TF-IDF + logistic regression": "tfidf_logreg"}


def baselines(experiment: ExperimentConfig, data: PreparedData, store: Store) -> pd.DataFrame:
    """The baselines on the data's validation and test rows, cached per prepared data."""
    # v2: each baseline at its setting chosen on validation (a `setting` column); v3: and
    # on the test split's distinct tweets (split `test_tweets`)
    cached = store.cache_dir / f"{data.fingerprint}-baselines-v3.json"
    if cached.exists():
        return pd.read_json(io.StringIO(cached.read_text()), orient="records")
    table = baseline_table(split_texts(experiment, store.data_dir, data), data.class_names,
                           experiment.seed)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(table.to_json(orient="records", indent=1))
    return table


def log_baselines(tracker: Tracker, run_id: str, experiment: ExperimentConfig,
                  data: PreparedData, store: Store) -> str | None:
    """The baselines (majority, TextBlob, VADER, TF-IDF + logistic regression fitted on the
    train split) on the run's own validation and test rows, logged once: `baselines.json` and
    metrics `baseline_<name>_<split>_<metric>` (what RESULTS.md sets beside our figures).
    Returns the line that sets their test scores beside the winner's (None when they were
    logged before)."""
    if tracker.client.get_run(run_id).data.tags.get(T.BASELINES_LOGGED):
        return None
    table = baselines(experiment, data, store)
    numeric = [c for c in table.columns if c not in ("baseline", "split")
               and pd.api.types.is_numeric_dtype(table[c])]
    metrics = {f"baseline_{BASELINE_SLUGS.get(r['baseline'], r['baseline'])}_{r['split']}_{k}":
               r[k] for r in table.to_dict("records") for k in numeric if np.isfinite(r[k])}
    tracker.log_metrics(run_id, metrics)
    tracker.log_files(run_id, texts={"baselines.json": table.to_json(orient="records",
                                                                        indent=1),
                                     "baselines.csv": table.to_csv(index=False)})
    tracker.set_tags(run_id, {T.BASELINES_LOGGED: "true"})
    # the objective's own score, to set beside the winner's test line
    score = experiment.objective.metric.removeprefix("val_")
    score = score if score in table.columns else "accuracy"
    line = ""
    for split, what in (("test", "the same test rows"), ("test_tweets", "each tweet once")):
        test = table[table["split"] == split].set_index("baseline")[score]
        if len(test):
            line += ("\n" if line else "") + f"baselines on {what} ({score}): " + ", ".join(
                f"{name} {value:.4f}" for name, value in test.items())
    return line
