"""Rebuild a trial from what MLflow recorded alone, retrain it, and compare.

    report = reproduce_trial(store, "gop-1", trial="best", extra_seeds=3)

The recorded config (experiment, search space, params, seed, data fingerprint, commit) is read
from the trial's `config.yaml` artifact, not from today's YAML files. The same seed must give the
same metric; K other seeds give mean ± std, which exposes a lucky winner. The reproduced model is
then scored once on the held-out test split.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from ... import tags as T
from ...data import prepare
from ...errors import InputError
from ...evaluation import TextClassifier, classification_metrics
from ...experiments import experiment_from_dict
from ...trial import run_objective
from ..engine.provenance import git_commit
from ..engine.record import best_trial
from ..engine.scoring import EXPLICIT, WINNER, score_on_test
from ..store.paths import Store
from .context import campaign_data_store


SUMMARY = ("accuracy", "precision", "recall", "f1", "macro_f1", "roc_auc")  # shown and logged


@dataclass
class Reproduction:
    campaign: str
    source_run_id: str
    run_id: str
    trial_index: int
    metric: str
    stored: float
    reproduced: float
    seed: int
    recorded_commit: str
    spread: float = 0.0  # sd over the objective's folds / seeds (0 with one run per trial)
    # the reproduced model's own validation score: the seeds' ensemble (the model scored on
    # test), not the mean of single seeds that `reproduced` is; None with folds (in-sample)
    model_val: float | None = None
    other_seeds: dict[int, float] = field(default_factory=dict)
    test_metrics: dict[str, float] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        return self.stored == self.reproduced

    def lines(self) -> list[str]:
        out = [f"campaign {self.campaign}, trial {self.trial_index} (run {self.source_run_id})",
               f"  stored     {self.metric} = {self.stored!r}",
               f"  reproduced {self.metric} = {self.reproduced!r}  (seed {self.seed}: "
               + ("identical)" if self.identical else
                  f"DIFFERS by {self.reproduced - self.stored:+.3g})")]
        if self.spread:
            out.append(f"  spread over the objective's folds / seeds: sd {self.spread:.4f}")
        if self.other_seeds:
            values = list(self.other_seeds.values())
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            out.append(f"  {len(values)} other seeds: {self.metric} = "
                       f"{statistics.mean(values):.4f} ± {spread:.4f}  "
                       + " ".join(f"{s}:{v:.4f}" for s, v in self.other_seeds.items()))
        if self.test_metrics:
            out.append("  held-out test split (scored once): " + "  ".join(
                f"{k} {v:.4f}" for k, v in self.test_metrics.items()))
            test_value = self.test_metrics.get(f"test_{self.metric.removeprefix('val_')}")
            if test_value is not None and self.model_val is not None:
                out.append(f"  validation -> test, the same model (the ensemble of its "
                           f"seeds, at 0.5): {self.model_val:.4f} -> {test_value:.4f} "
                           f"({test_value - self.model_val:+.4f}); the objective above is the "
                           "mean of single seeds")
        out.append(f"  logged as run {self.run_id}")
        return out


def pick_run(rows: list[dict[str, Any]], trial: str, metric: str, direction: str):
    if trial == "best":
        chosen = best_trial(rows, metric, direction)
        if chosen is None:
            raise InputError("reproduce", "--trial", "the campaign has no finished trial yet")
        return chosen
    matches = [r for r in rows if T.trial_tags(r).campaign_trial
               and r["tags"][T.AX_TRIAL_INDEX] == trial]
    if not matches or matches[0]["status"] != "FINISHED":
        raise InputError("reproduce", "--trial", f"no finished trial {trial} in this campaign")
    return matches[0]


def reproduce_trial(store: Store, campaign: str, trial: str = "best", extra_seeds: int = 0,
                    progress: Callable[[str], None] = print,
                    score_test: bool | None = None) -> Reproduction:
    """Retrain a trial; `score_test` None scores the test split only for the campaign's chosen
    winner; True scores any trial there (tagged `test_scored=explicit`), False never."""
    tracker = store.tracker()
    parent = tracker.require_campaign(campaign)
    tags = T.CampaignTags.of(parent.data.tags)
    metric, direction = tags.objective, tags.direction
    source = pick_run(tracker.trial_rows(parent.info.run_id), trial, metric, direction)
    source_label = f"run {source['run_id']}"
    recorded = yaml.safe_load(tracker.read_text(source["run_id"], "config.yaml"))
    experiment = experiment_from_dict(recorded["experiment"], source_label,
                                      recorded["search_space"])
    store = campaign_data_store(store, campaign, parent.data.tags, experiment, progress)
    data = prepare(experiment, store.data_dir, store.cache_dir, progress=progress)
    if data.fingerprint != recorded["data_fingerprint"]:
        raise InputError(source_label, "data_fingerprint",
                         f"recorded {recorded['data_fingerprint']}, "
                         f"today's data give {data.fingerprint}")
    params, seed = recorded["params"], int(recorded["seed"])
    winner = source["run_id"] == tags.best_run_id
    if score_test and not winner:
        progress("scoring a trial other than the campaign's winner on test (--score-test): "
                 "tagged test_scored=explicit; never choose a model by it")
    score_test = winner if score_test is None else score_test
    objective = experiment.objective
    progress(f"retraining trial {source['tags'][T.AX_TRIAL_INDEX]} with seed {seed}")
    family = experiment.model.family
    result = run_objective(params, data, seed, family, objective.folds, objective.replicates)
    run_id = tracker.start_trial(parent.info.run_id, f"reproduce-{source['run_name']}", params, {
        T.CAMPAIGN: campaign, T.SOURCE: T.FROM_REPRODUCE, T.REPRODUCES: source["run_id"],
        T.AX_TRIAL_INDEX: source["tags"][T.AX_TRIAL_INDEX], T.SEED: seed,
        T.DATA_FINGERPRINT: data.fingerprint, T.GIT_COMMIT: git_commit(),
        "recorded_git_commit": recorded.get("git_commit", "")})
    report = Reproduction(campaign, source["run_id"], run_id,
                          int(source["tags"][T.AX_TRIAL_INDEX]), metric,
                          # an intensified trial's first units are what a rerun trains again
                          float(source["metrics"].get(f"initial_{metric}",
                                                      source["metrics"][metric])),
                          float(result.mean[metric]), seed,
                          recorded.get("git_commit", ""), result.sd(metric))
    if objective.folds == 1:
        report.model_val = classification_metrics(result.val_true, result.val_proba).get(
            metric.removeprefix("val_"))
    units = objective.replicates
    used = max(units, len(T.trial_tags(source).units))  # intensification's seeds come next
    for k in range(1, extra_seeds + 1):
        other = seed + used + (k - 1) * units  # the trial used seeds seed .. seed + used - 1
        progress(f"retraining with seed {other}")
        report.other_seeds[other] = run_objective(params, data, other, family, objective.folds,
                                                  units).mean[metric]
    if score_test:  # the reproduced model, with the stored model's threshold
        stored = tracker.load_classifier(source["run_id"])
        classifier = TextClassifier(result.model, data.vocabulary, experiment.cleaning,
                                    data.sequence_length, data.class_names,
                                    stored.threshold if stored else 0.5)
        scores = score_on_test(tracker, run_id, classifier, data,
                               WINNER if winner else EXPLICIT)
        report.test_metrics = {f"test_{k}": scores[f"test_{k}"] for k in SUMMARY
                               if f"test_{k}" in scores}
    logged = {**result.mean, f"stored_{metric}": report.stored,
              **({f"model_{metric}": report.model_val} if report.model_val is not None else {})}
    if report.other_seeds:
        values = list(report.other_seeds.values())
        logged[f"seeds_mean_{metric}"] = statistics.mean(values)
        logged[f"seeds_std_{metric}"] = statistics.stdev(values) if len(values) > 1 else 0.0
    tracker.log_metrics(run_id, logged)
    tracker.set_tags(run_id, {"identical": report.identical})
    tracker.end_run(run_id, "FINISHED")
    return report
