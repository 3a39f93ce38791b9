"""Fine-tuning stages (seed 001): base campaign -> fine-tune -> fine-tune.

    results = run_stages(experiment, "seed001-1", store)     # after run_campaign(...)
    print(format_benchmark(benchmark(store, "seed001-1")))   # seed 001's table, one row per stage

A staged experiment is an ordinary experiment (its campaign tunes the base model on its own data)
plus `stages:`. Each stage starts from the previous stage's logged model (the base campaign's
winner for the first, or `start_from`: any logged run or campaign), and:
- reads its own data with the parent's cleaning, vocabulary and sequence length (the data are
  prepared with that vocabulary: nothing is re-tokenized differently);
- freezes the named layers and trains the rest at a lower learning rate (the stage's
  `params.learning_rate`, else the parent's / 10), with the parent's other training parameters
  unless the stage overrides them; early stopping keeps the best validation epoch as always;
- is logged as an MLflow run nested under the campaign's run (tags kind=stage, source=stage,
  stage, parent_model_run_id, parent_model_uri, freeze), with its model, its validation metrics
  and its own test split scored once; the stages never count as campaign trials.
A finished stage run is reused when its parent and its YAML are unchanged (an interrupted staged
campaign resumes); otherwise it is tagged superseded and the stage runs again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ...config import ExperimentConfig, StageConfig, to_dict
from ...data import PreparedData, prepare
from ...errors import InputError
from ... import tags as T
from ...evaluation import TextClassifier
from ...trial import run_objective
from ..engine.provenance import git_commit
from ..engine.scoring import STAGE, log_baselines, score_on_test, validation_details
from ..store.paths import Store
from ..store.tracking import Tracker

BENCHMARK = ("accuracy", "precision", "recall", "f1")  # per class, then macro F1


@dataclass
class StageResult:
    name: str
    run_id: str
    parent_run_id: str
    data: str  # the stage's datasets
    test_rows: int
    test_metrics: dict[str, float]  # flat: test_accuracy, test_f1_negative, ...


def stage_experiment(experiment: ExperimentConfig, stage: StageConfig,
                     parent: TextClassifier) -> ExperimentConfig:
    """The stage's data, read the way the parent model reads text: its cleaning and sequence
    length (its vocabulary is passed to `prepare`), the stage's labels or the experiment's, the
    experiment's split and seed."""
    return dataclasses.replace(
        experiment, name=f"{experiment.name}/{stage.name}", data=stage.data,
        labels=stage.labels or experiment.labels, cleaning=list(parent.cleaning),
        vectorization=dataclasses.replace(experiment.vectorization,
                                          sequence_length=parent.sequence_length),
        stages=[], reference=stage.reference)


def stage_params(parent_params: dict[str, Any], stage: StageConfig) -> dict[str, Any]:
    """The parent's parameters, the learning rate lowered tenfold, then the stage's own."""
    params = dict(parent_params)
    params["learning_rate"] = float(parent_params["learning_rate"]) / 10
    return {**params, **stage.params}


def run_stages(experiment: ExperimentConfig, campaign: str, store: Store,
               start_from: str | None = None,
               progress: Callable[[str], None] = print) -> list[StageResult]:
    """Run (or resume) every stage of `experiment` after campaign `campaign`; `start_from` (a
    run id or campaign name) replaces the campaign's winner as the first parent."""
    if not experiment.stages:
        raise InputError(experiment.path, "stages", "this experiment has no stages")
    tracker = store.tracker()
    parent_run = ensure_campaign_run(tracker, experiment, campaign)
    campaign_id = parent_run.info.run_id
    previous = (resolve_run(tracker, start_from) if start_from
                else parent_run.data.tags.get("best_run_id"))
    if previous is None:
        raise InputError(campaign, "stages", "the campaign has no best trial to start from")
    tracker.resume_campaign(campaign_id)
    done = latest_stage_runs(tracker.trial_rows(campaign_id))
    results = []
    for number, stage in enumerate(experiment.stages, start=1):
        source = resolve_run(tracker, stage.start_from) if stage.start_from else previous
        row = done.get(stage.name)
        if row is not None and row["tags"].get("parent_model_run_id") == source and \
                row["tags"].get("stage_config") == stage_digest(stage):
            progress(f"stage {stage.name}: already finished (run {row['run_id']})")
            results.append(_result_of(row))
            previous = row["run_id"]
            continue
        if row is not None:  # another parent or another stage config: replaced, kept as history
            tracker.set_tags(row["run_id"], {"superseded": "true"})
        result = fine_tune_stage(tracker, experiment, stage, number, campaign, campaign_id,
                                 source, store, progress)
        results.append(result)
        previous = result.run_id
    table = benchmark(store, campaign)
    tracker.log_files(campaign_id, texts={"stages/benchmark.md": format_benchmark(table,
                                                                                  "markdown"),
                                          "stages/benchmark.csv": table.to_csv(index=False)})
    tracker.end_run(campaign_id, "FINISHED")
    return results


def stage_digest(stage: StageConfig) -> str:
    """What a finished stage run must match to be reused (its YAML, as logged)."""
    text = yaml.safe_dump(to_dict(stage), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def latest_stage_runs(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The current finished run of each stage (superseded ones left out), by stage name."""
    out = {}
    for row in sorted(rows, key=lambda r: r["start_ms"] or 0):
        if row["tags"].get(T.SOURCE) == T.FROM_STAGE and row["status"] == "FINISHED" and \
                row["tags"].get(T.SUPERSEDED) != "true":
            out[row["tags"][T.STAGE]] = row
    return out


def fine_tune_stage(tracker: Tracker, experiment: ExperimentConfig, stage: StageConfig,
                    number: int, campaign: str, campaign_id: str, source_run: str,
                    store: Store, progress: Callable[[str], None]) -> StageResult:
    parent = tracker.load_classifier(source_run)
    if parent is None:
        raise InputError(source_run, "model", "the parent run has no logged model")
    exp = stage_experiment(experiment, stage, parent)
    data = prepare(exp, store.data_dir, store.cache_dir, progress=progress,
                   vocabulary=parent.vocabulary)
    if data.class_names != parent.class_names:
        raise InputError(experiment.path, f"stages[{number - 1}].labels",
                         f"classes {data.class_names} differ from the parent's "
                         f"{parent.class_names}")
    params = stage_params(recorded_params(tracker, source_run), stage)
    parent_tags = tracker.client.get_run(source_run).data.tags
    commit = git_commit()
    run_id = tracker.start_trial(campaign_id, f"stage-{stage.name}", params, {
        T.CAMPAIGN: campaign, T.KIND: "stage", T.SOURCE: T.FROM_STAGE, T.STAGE: stage.name,
        T.STAGE_INDEX: number, T.PARENT_MODEL_RUN_ID: source_run,
        "stage_config": stage_digest(stage),
        "parent_model_uri": parent_tags.get(T.MODEL_URI, ""),
        "freeze": ",".join(stage.freeze), "data": exp.data.describe(),
        "data_fingerprint": data.fingerprint, "seed": experiment.seed, "git_commit": commit})
    tracker.log_files(run_id, texts={"config.yaml": yaml.safe_dump({
        "experiment": to_dict(exp), "stage": to_dict(stage), "params": params,
        "seed": experiment.seed, "parent_model_run_id": source_run,
        "data_fingerprint": data.fingerprint, "git_commit": commit}, sort_keys=False)})
    progress(f"stage {stage.name}: fine-tuning run {source_run} on {exp.data.describe()} "
             f"({len(data.y_train)} train rows), frozen: {', '.join(stage.freeze) or 'none'}, "
             f"learning rate {params['learning_rate']:.3g}")

    def on_epoch(epoch: int, epochs: int, logs: dict[str, float]) -> None:
        tracker.log_metrics(run_id, logs, step=epoch)
        progress(f"  stage {stage.name} epoch {epoch}/{epochs}  loss {logs.get('loss', 0):.4f}"
                 f"  val_loss {logs.get('val_loss', 0):.4f}")

    with tempfile.TemporaryDirectory() as tmp:
        folder = parent.save(Path(tmp) / "parent")

        def load_parent():
            return TextClassifier.load(folder).model

        try:
            result = run_objective(params, data, experiment.seed, experiment.model.family,
                                   on_epoch=on_epoch, start_from=load_parent,
                                   freeze=list(stage.freeze))
        except Exception as err:
            tracker.set_tags(run_id, {"error": f"{type(err).__name__}: {err}"[:500]})
            tracker.end_run(run_id, "FAILED")
            raise
    classifier = TextClassifier(result.model, parent.vocabulary, parent.cleaning,
                                parent.sequence_length, parent.class_names)
    frozen = [layer.name for layer in result.model.layers if not layer.trainable]
    tracker.log_metrics(run_id, {**validation_details(result.val_true, result.val_proba,
                                                      data.class_names),
                                 **result.mean, "train_rows": len(data.y_train),
                                 "test_rows": len(data.y_test)})
    tracker.set_tags(run_id, {"frozen_layers": ",".join(frozen)})
    test = score_on_test(tracker, run_id, classifier, data, STAGE)
    tracker.log_classifier(run_id, classifier)
    line = log_baselines(tracker, run_id, exp, data, store)
    if line:
        progress(line)
    tracker.end_run(run_id, "FINISHED")
    progress(f"stage {stage.name}: test accuracy {test['test_accuracy']:.4f}, macro F1 "
             f"{test['test_macro_f1']:.4f} ({len(data.y_test)} rows)")
    return StageResult(stage.name, run_id, source_run, exp.data.describe(), len(data.y_test),
                       test)


def ensure_campaign_run(tracker: Tracker, experiment: ExperimentConfig, campaign: str):
    """The campaign's parent run; created (with no trials) when stages start from a logged run
    without a base campaign."""
    run = tracker.find_campaign(campaign)
    if run is None:
        tracker.start_campaign(experiment.name, campaign, tags={
            "experiment_file": experiment.path, "stages_only": "true",
            "objective": experiment.objective.metric,
            "direction": experiment.objective.direction, "git_commit": git_commit()},
            params={"seed": experiment.seed, "family": experiment.model.family},
            texts={"experiment.yaml": yaml.safe_dump(to_dict(experiment), sort_keys=False),
                   "search_space.yaml": yaml.safe_dump(to_dict(experiment.space),
                                                       sort_keys=False)})
        run = tracker.find_campaign(campaign)
    return run


def resolve_run(tracker: Tracker, name_or_run: str) -> str:
    """A campaign name (its best run) or a run id with a logged model."""
    campaign = tracker.find_campaign(name_or_run)
    if campaign is not None:
        best = campaign.data.tags.get("best_run_id")
        if best is None:
            raise InputError("start_from", name_or_run, "that campaign has no best run yet")
        return best
    try:
        return tracker.client.get_run(name_or_run).info.run_id
    except Exception:  # noqa: BLE001 - MLflow raises its own type for unknown ids
        raise InputError("start_from", name_or_run,
                         "is neither a campaign nor a run id in this store") from None


def recorded_params(tracker: Tracker, run_id: str) -> dict[str, Any]:
    """A run's parameters with their types: from its config.yaml, else its MLflow params."""
    try:
        return dict(yaml.safe_load(tracker.read_text(run_id, "config.yaml"))["params"])
    except Exception:  # noqa: BLE001 - no config.yaml (a run logged elsewhere)
        return {k: yaml.safe_load(v) for k, v in
                tracker.client.get_run(run_id).data.params.items()}


# ---- seed 001's benchmark table ---------------------------------------------------------------


def benchmark(store: Store, campaign: str) -> pd.DataFrame:
    """One row per stage (the base campaign's winner first): its data, test rows, accuracy,
    precision / recall / F1 per class and macro F1 on the stage's own test split."""
    tracker = store.tracker()
    run = tracker.require_campaign(campaign)
    rows = tracker.trial_rows(run.info.run_id)
    records = []
    best = run.data.tags.get("best_run_id")
    base = next((r for r in rows if r["run_id"] == best), None)
    if base is not None:
        records.append(_record("base", run.data.params.get("dataset", ""), base["run_id"],
                               run.data.metrics, float(run.data.params.get("test_rows", 0))))
    stages = sorted(latest_stage_runs(rows).values(),
                    key=lambda r: int(r["tags"].get("stage_index", 0)))
    for r in stages:
        records.append(_record(r["tags"]["stage"], r["tags"].get("data", ""), r["run_id"],
                               r["metrics"], r["metrics"].get("test_rows")))
    return pd.DataFrame(records)


def _record(stage: str, data: str, run_id: str, metrics: dict[str, float],
            test_rows: float | None) -> dict[str, Any]:
    classes = sorted({k.rsplit("_", 1)[1] for k in metrics
                      if k.startswith("test_f1_") and k.count("_") == 2})
    out = {"stage": stage, "data": data, "run_id": run_id[:8],
           "test_rows": int(test_rows) if test_rows else None,
           "accuracy": metrics.get("test_accuracy")}
    for name in classes:
        for metric in BENCHMARK[1:]:
            out[f"{metric}_{name}"] = metrics.get(f"test_{metric}_{name}")
    out["macro_f1"] = metrics.get("test_macro_f1")
    return out


def format_benchmark(table: pd.DataFrame, fmt: str = "text") -> str:
    if table.empty:
        return "(no stage yet)"
    shown = table.copy()
    for column in shown.columns:
        if shown[column].dtype.kind == "f" and column != "test_rows":
            shown[column] = [f"{v:.4f}" if pd.notna(v) else "" for v in shown[column]]
    return shown.to_markdown(index=False) if fmt == "markdown" else shown.to_string(index=False)


def _result_of(row: dict[str, Any]) -> StageResult:
    metrics = row["metrics"]
    return StageResult(row["tags"]["stage"], row["run_id"],
                       row["tags"].get("parent_model_run_id", ""), row["tags"].get("data", ""),
                       int(metrics.get("test_rows", 0)),
                       {k: v for k, v in metrics.items() if k.startswith("test_")})


def stage_data(store: Store, experiment: ExperimentConfig, stage: StageConfig,
               parent: TextClassifier) -> PreparedData:
    """A stage's prepared data as fine-tuning reads them (for tests and inspection)."""
    return prepare(stage_experiment(experiment, stage, parent), store.data_dir,
                   store.cache_dir, vocabulary=parent.vocabulary)
