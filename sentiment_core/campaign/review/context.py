"""A finished campaign opened for evaluation: its best model, data and trials, scored at two
thresholds beside the baselines, its election table and parameter importance.

    ctx = open_campaign(store, "gop-20")
    evaluations(ctx)["test @ 0.5"]["summary"]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy.stats import spearmanr

from ...config import ExperimentConfig
from ...data import (
    PreparedData,
    load_labeled,
    prepare,
    resolve_dataset,
    sha256_of,
    split_texts,
)
from ...errors import InputError
from ... import tags as T
from ...evaluation import (
    TextClassifier,
    candidates_by_keywords,
    election_table,
    evaluation,
    per_tweet_metrics,
    plots,
    predictions,
    table5,
)
from ...experiments import experiment_from_dict
from ..engine.record import best_trial
from ..engine.scoring import WINNER, baselines, score_on_test, test_evaluations, test_proba
from ..store.paths import Store
from ..store.tracking import Tracker


@dataclass
class CampaignContext:
    name: str
    store: Store
    tracker: Tracker
    parent: Any  # the MLflow parent run
    experiment: ExperimentConfig
    rows: list[dict[str, Any]]
    best: dict[str, Any]
    data: PreparedData
    classifier: TextClassifier
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def metric(self) -> str:
        return self.experiment.objective.metric

    def texts(self) -> dict[str, pd.DataFrame]:
        if "texts" not in self.cache:
            self.cache["texts"] = split_texts(self.experiment, self.store.data_dir, self.data)
        return self.cache["texts"]

    def proba(self, split: str) -> np.ndarray:
        """The best model's probabilities on "val" or "test" (the campaign's own arrays)."""
        key = f"proba_{split}"
        if key not in self.cache:
            self.cache[key] = test_proba(self.classifier, self.data) if split == "test" \
                else self.classifier.predict_ids(self.data.x_val)
        return self.cache[key]

    @property
    def best_trial_index(self) -> str:
        return self.best["tags"][T.AX_TRIAL_INDEX]


# ---- the campaign's data: recorded at creation, found again later ---------------------------


def campaign_data_store(store: Store, campaign: str, tags: dict[str, str],
                        experiment: ExperimentConfig,
                        progress: Callable[[str], None] = print) -> Store:
    """`store` with the data directory that holds the campaign's own data file: --data-dir
    when its file is the recorded one, else the recorded file's folder. A file whose sha256
    changed since is one clear error (its splits would not be the campaign's)."""
    recorded, sha = tags.get(T.DATA_FILE), tags.get(T.DATA_SHA256)
    if not recorded or not sha:  # a campaign recorded before these tags: --data-dir as given
        return store
    recorded_path = Path(recorded)
    candidates = [store.data_dir]
    relative = experiment.data.path if experiment.data.dataset == "csv" else None
    depth = 1 if relative is None or Path(relative).is_absolute() else len(Path(relative).parts)
    if len(recorded_path.parents) >= depth:
        candidates.append(recorded_path.parents[depth - 1])
    changed = None
    for directory in candidates:
        try:
            _, path = resolve_dataset(experiment, directory)
        except InputError:
            continue
        actual = sha256_of(path)
        if actual == sha:
            if directory != store.data_dir:
                progress(f"data: {path} (the file campaign {campaign} recorded)")
            return dataclasses.replace(store, data_dir=directory)
        changed = changed or (path, actual)
    if changed:
        path, actual = changed
        raise InputError(path, "sha256", f"changed since campaign {campaign} recorded it "
                                         f"(recorded {sha[:12]}, now {actual[:12]}); restore "
                                         "the file or point --data-dir at the original")
    raise InputError(recorded_path, None, f"missing: campaign {campaign} read its data here, "
                                          f"and DATA_DIR={store.data_dir} has no copy")


def open_campaign(store: Store, name: str, progress: Callable[[str], None] = print):
    tracker = store.tracker()
    parent = tracker.require_campaign(name)
    run_id = parent.info.run_id
    experiment = experiment_from_dict(
        yaml.safe_load(tracker.read_text(run_id, "experiment.yaml")), f"campaign {name}",
        yaml.safe_load(tracker.read_text(run_id, "search_space.yaml")))
    rows = tracker.trial_rows(run_id)
    best = best_trial(rows, experiment.objective.metric, experiment.objective.direction)
    if best is None:
        raise InputError(f"campaign {name}", None, "has no finished trial yet")
    store = campaign_data_store(store, name, parent.data.tags, experiment, progress)
    data = prepare(experiment, store.data_dir, store.cache_dir, progress=progress)
    classifier = tracker.load_classifier(best["run_id"])
    return CampaignContext(name, store, tracker, parent, experiment, rows, best, data,
                           classifier)


def resolve_model(store: Store, name_or_run: str) -> tuple[Tracker, Any, TextClassifier]:
    """A campaign name (its final model: the refit of its winner on train + validation where
    the campaign made one, else its best trial's model) or an MLflow run id with a logged
    model."""
    tracker = store.tracker()
    parent = tracker.find_campaign(name_or_run)
    run_id = name_or_run
    if parent is not None:
        tags = parent.data.tags
        run_id = tags.get(T.REFIT_RUN_ID) or tags.get(T.BEST_RUN_ID)
    try:
        run = tracker.client.get_run(run_id)
    except Exception:  # noqa: BLE001 - MLflow raises its own exception type for unknown ids
        raise InputError("NAME_OR_RUN_ID", name_or_run,
                         "is neither a campaign nor a run id in this store") from None
    classifier = tracker.load_classifier(run.info.run_id)
    if classifier is None:
        raise InputError("NAME_OR_RUN_ID", name_or_run, "this run has no logged model")
    return tracker, run, classifier


# ---- evaluation on the campaign's own splits -------------------------------------------------


def evaluations(ctx: CampaignContext) -> dict[str, dict]:
    """The best model on val and test, at 0.5 and (binary models) at its stored threshold:
    the one chosen on validation (out-of-fold with folds) when the trial was logged."""
    names, threshold = ctx.data.class_names, ctx.classifier.threshold
    if ctx.experiment.objective.folds > 1:  # the fold models trained on the validation rows
        out = {"val out-of-fold (recorded)": recorded_out_of_fold(ctx.best, names, threshold)}
        return {**out, **test_evaluations(ctx.classifier, ctx.data)}
    out = {"val @ 0.5": evaluation(ctx.data.y_val, ctx.proba("val"), names)}
    if len(names) == 2:
        out[f"val @ {threshold:.2f} (val-chosen)"] = evaluation(
            ctx.data.y_val, ctx.proba("val"), names, threshold)
    return {**out, **test_evaluations(ctx.classifier, ctx.data)}


def recorded_out_of_fold(best: dict[str, Any], names: list[str], threshold: float) -> dict:
    """A folds trial's validation scores as it recorded them: each row predicted by the fold
    model that did not train on it (`pooled_val_*`, at 0.5), never re-scored in-sample."""
    metrics = best["metrics"]
    summary = {k: metrics.get(f"pooled_val_{k}", np.nan) for k in
               ("accuracy", "precision", "recall", "f1", "macro_f1", "roc_auc")}
    per_class = {c: {k: metrics.get(f"pooled_val_{k}_{c}", np.nan)
                     for k in ("precision", "recall", "f1")} for c in names}
    return {"threshold": threshold, "summary": summary, "per_class": per_class,
            "confusion_matrix": None, "report": ""}


def log_test_once(ctx: CampaignContext) -> None:
    """The winner's test metrics go on its run once (the campaign's end usually did it)."""
    score_on_test(ctx.tracker, ctx.best["run_id"], ctx.classifier, ctx.data, WINNER)


def comparison_table(ctx: CampaignContext, evals: dict[str, dict]) -> pd.DataFrame:
    """The LSTM next to every baseline, on the same validation and test rows."""
    base = baselines(ctx.experiment, ctx.data, ctx.store)
    name = f"{ctx.experiment.model.family} trial {ctx.best_trial_index}"
    lstm = [{"baseline": f"{name} ({label})", "split": label.split()[0], **e["summary"]}
            for label, e in evals.items()]
    if (base["split"] == "test_tweets").any():  # the test split's tweets, each once
        for cut in dict.fromkeys([0.5, ctx.classifier.threshold]):
            lstm.append({"baseline": f"{name} (test_tweets @ {cut:.2f})", "split": "test_tweets",
                         **per_tweet_metrics(ctx.data.keys["test"], ctx.data.y_test,
                                             ctx.proba("test"), cut)})
    table = pd.concat([pd.DataFrame(lstm), base], ignore_index=True)
    order = {"val": 0, "test": 1, "test_tweets": 2}  # per row, then each test tweet once
    return table.sort_values(["split", "baseline"], key=lambda col: col.map(order).fillna(3)
                             if col.name == "split" else col, kind="stable").reset_index(drop=True)


# ---- election (seed 000, Tables 6-7) -------------------------------------------------------


def election(classifier: TextClassifier, experiment: ExperimentConfig, data_dir: Path,
             frame: pd.DataFrame | None = None, split_rows: np.ndarray | None = None
             ) -> pd.DataFrame:
    """Per-candidate counts. `frame` (text, group or not, label or not) defaults to the
    experiment's own labeled rows (restricted to `split_rows` when given). The candidate is the
    group column where the data have one, else the experiment's keyword rules."""
    if frame is None:
        frame = load_labeled(experiment, data_dir).frame
        if split_rows is not None:
            frame = frame[frame["row"].isin(split_rows)]
    texts = frame["text"].astype(str).tolist()
    keywords = experiment.election.keywords
    if "group" in frame and (frame["group"] != "").any():
        candidates = [[g] for g in frame["group"]]
    elif keywords:
        candidates = candidates_by_keywords(texts, keywords)
    else:
        raise InputError(experiment.path or "experiment", "election.keywords",
                         "the data have no candidate column: give keyword rules")
    predicted = predictions(classifier.predict_proba(texts), classifier.threshold)
    labels = frame["label"].to_numpy() if "label" in frame else None
    return election_table(candidates, predicted, labels, classifier.class_names,
                          experiment.election.exclude_groups)


def log_election(tracker: Tracker, run_id: str, table: pd.DataFrame, prefix: str) -> None:
    figure = plots.election_bars(table)
    tracker.log_files(run_id, texts={f"{prefix}/table.csv": table.to_csv(index=False),
                                     f"{prefix}/table.md": table.to_markdown(index=False)},
                      figures={f"{prefix}/bars.png": figure})
    plots.close(figure)


# ---- campaign-level plots --------------------------------------------------------------------


def campaign_frame(ctx: CampaignContext) -> pd.DataFrame:
    params = list(ctx.experiment.space.parameters)
    frame = table5(ctx.rows, params, ctx.metric, ctx.best["run_id"])
    return frame[(frame["status"] == "FINISHED") & frame[ctx.metric].notna()]


def importance(ctx: CampaignContext) -> tuple[dict[str, float], str]:
    """Ax's GP-based sensitivity where a Bayesian model exists; else Spearman correlations."""
    from ..store.search import Search

    numeric = [p for p, s in ctx.experiment.space.parameters.items() if s.type != "choice"]
    if ctx.store.ax_url or ctx.store.ax_db.exists():
        exp = ctx.experiment
        search = Search.open(ctx.name, exp.space, exp.objective, exp.optimizer, exp.seed,
                             ctx.store.ax_location)
        sensitivity = search.sensitivity(ctx.metric)
        if sensitivity:
            return sensitivity, (f"Ax sensitivity analysis (total-order Sobol indices of the "
                                 f"GP model of {ctx.metric}, signed by direction)")
    frame = campaign_frame(ctx)
    values = {p: float(spearmanr(frame[p].astype(float), frame[ctx.metric]).statistic)
              for p in numeric if frame[p].nunique() > 1}
    return ({k: (0.0 if np.isnan(v) else v) for k, v in values.items()},
            f"Spearman rank correlation with {ctx.metric} (no Bayesian model to ask)")


def metric_history(tracker: Tracker, run_id: str, keys: list[str]) -> dict[str, list[float]]:
    out = {}
    for key in keys:
        # one value per epoch: the final metrics repeat the last epoch's at the same step
        by_step = {m.step: m.value for m in sorted(
            tracker.client.get_metric_history(run_id, key), key=lambda m: (m.step, m.timestamp))}
        if by_step:
            out[key] = [by_step[step] for step in sorted(by_step)]
    return out
