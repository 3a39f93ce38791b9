"""The campaign loop: Ax asks, workers train, Ax is told and MLflow records.

    summary = run_campaign(load_experiment("gop_debate_lstm"), "gop-1", trials=20,
                           store=Store(Path("mlruns"), data_dir=Path("data")))

The loop asks Ax for as many trials as the executor has free workers (Ax may give fewer, or
none until running trials report), submits them, and tells each result to Ax as it arrives.
This process is the only one talking to Ax and MLflow; workers only train (see executors).

Time outside training is kept off the trial's path: figures, tables and configs are written by
a background thread (`BackgroundWriter`) while the next trial trains; with `optimizer.prefetch`
(the default; the trial stays bit-identical: models.seeding) Ax also generates the next one.
The records (metrics, statuses, the best's model) are written in the campaign's thread, in the
order `records` relies on.

A campaign of the same name resumes: completed trials are kept, the trials that were running
when the process died are abandoned in Ax and KILLED in MLflow, and their slots are proposed
again until `trials` trials have completed (or were stopped early by Ax). A trial that raises
is failed in both and the campaign goes on, up to the experiment's tolerated failure rate.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import io
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..config import (
    PROJECT_ROOT,
    ExperimentConfig,
    check_early_stopping,
    check_execution,
    to_dict,
)
from ..data import PreparedData, cache_path, prepare, split_texts
from ..errors import InputError
from ..evaluation import (
    TextClassifier,
    baseline_table,
    best_row,
    evaluation,
    flat_metrics,
    format_table,
    optimal_threshold,
    plots,
    predictions,
    seed_rows,
    table5,
)
from ..trial import ObjectiveResult
from .background import BackgroundWriter
from .context import data_tags
from .executors import Executor, make_executor
from .lock import campaign_lock
from .records import reconcile, tag_best
from .search import Search
from .store import Store
from .tracking import Tracker
from .worker import Event, TrialOutcome, TrialSpec, rebuild_model

FAULT_ENV = "SENTIMENT_HPO_FAULT"  # tests only: "POINT:N:SIGNAL", see fault_point
_fault_hits: dict[str, int] = {}


class CampaignStopped(RuntimeError):
    """Too many trials failed: the campaign stops instead of burning its budget."""


class TrackingLost(CampaignStopped):
    """The MLflow server stopped answering (after MLflow's own retries with backoff)."""


def fault_point(point: str) -> None:
    """Fault injection for the kill tests: with SENTIMENT_HPO_FAULT="recorded:2:KILL" this
    process sends itself SIGKILL the 2nd time it reaches point "recorded". Points: epoch (an
    epoch ended, inside fit), recorded (MLflow has a trial's metrics, figures, model; Ax not
    told yet), told (Ax told and saved; the run not ended yet), finished (run ended; parent's
    best and tables not yet written)."""
    spec = os.environ.get(FAULT_ENV)
    if not spec or spec.split(":")[0] != point:
        return
    _, count, name = spec.split(":")
    _fault_hits[point] = _fault_hits.get(point, 0) + 1
    if _fault_hits[point] == int(count):
        os.kill(os.getpid(), getattr(signal, f"SIG{name}"))


@dataclass
class CampaignSummary:
    name: str
    parent_run_id: str
    completed: int
    failed: int
    best: dict[str, Any] | None
    table: str
    wall_s: float
    early_stopped: int = 0


def git_commit() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=PROJECT_ROOT, capture_output=True, text=True).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def trial_config(experiment: ExperimentConfig, params: dict[str, Any], seed: int,
           data: PreparedData, commit: str) -> dict[str, Any]:
    """Everything `reproduce` needs, from MLflow alone: the resolved config of one trial."""
    return {"experiment": to_dict(experiment), "search_space": to_dict(experiment.space),
            "params": params, "seed": seed, "data_fingerprint": data.fingerprint,
            "git_commit": commit}


def run_campaign(experiment: ExperimentConfig, name: str, trials: int, store: Store,
                 attach_seed_table: bool = False, executor: Executor | None = None,
                 progress: Callable[[str], None] = print,
                 allow_changes: bool = False) -> CampaignSummary:
    """Create or resume campaign `name`, holding its lock (CampaignBusy if another process runs
    it). A resumed campaign is first checked against what it recorded (InputError naming the
    change, unless `allow_changes`), then Ax and MLflow are reconciled (see records)."""
    with campaign_lock(store.path, name):
        return _run_locked(experiment, name, trials, store, attach_seed_table, executor,
                           progress, allow_changes)


def _run_locked(experiment: ExperimentConfig, name: str, trials: int, store: Store,
                attach_seed_table: bool, executor: Executor | None,
                progress: Callable[[str], None], allow_changes: bool) -> CampaignSummary:
    start = time.perf_counter()
    objective = experiment.objective
    tracker = store.tracker()
    parent = tracker.find_campaign(name)
    changes: list[str] = []
    if parent is not None:
        owner = tracker.experiment_name(parent.info.experiment_id)
        if owner != experiment.name:
            raise InputError("--name", name, f"belongs to experiment {owner!r}, "
                                             f"not {experiment.name!r}")
        seed = int(parent.data.params.get("seed", experiment.seed))
        if seed != experiment.seed:  # the campaign keeps its seed (and so its splits)
            changes.append(f"seed {seed} → {experiment.seed}")
            experiment = dataclasses.replace(experiment, seed=seed)
    if attach_seed_table:  # checked before anything is written
        _check_seed_table_fits(experiment)
    data = prepare(experiment, store.data_dir, store.cache_dir, progress=progress)
    if parent is not None:
        changes += changed_records(tracker, parent, experiment, data)
        if changes and not allow_changes:
            raise InputError(f"campaign {name}", None, "was made with " + "; ".join(changes)
                             + "; pass --allow-changes to continue it anyway")
    executor = executor or make_executor(experiment.execution)
    commit = git_commit()
    resuming = parent is not None or Search.exists(name, store.ax_location)
    search = Search.open(name, experiment.space, objective, experiment.optimizer,
                         experiment.seed, store.ax_location,
                         prior_trials=len(seed_rows()) if attach_seed_table else 0,
                         early_stopping=experiment.early_stopping)
    if parent is None:
        parent_id = tracker.start_campaign(
            experiment.name, name,
            tags={"experiment_file": experiment.path, "search_space": experiment.space.path,
                  "objective": objective.metric, "direction": objective.direction,
                  "strategy": experiment.optimizer.strategy, "n_trials": trials,
                  "objective_folds": objective.folds,
                  "objective_replicates": objective.replicates,
                  "data_fingerprint": data.fingerprint, "git_commit": commit,
                  "repro_cmd": f"sentiment-hpo reproduce {name}",
                  # experiment, data_file, data_sha256: later commands find the data
                  **data_tags(experiment, store.data_dir),
                  # the UI shows these as columns, in this order
                  "parameters": ",".join([*experiment.space.parameters,
                                          *experiment.space.fixed])},
            params={"seed": experiment.seed, "family": experiment.model.family,
                    "dataset": experiment.data.describe(), "label_mode": experiment.labels.mode,
                    "classes": experiment.labels.classes,
                    "train_rows": len(data.y_train), "val_rows": len(data.y_val),
                    "test_rows": len(data.y_test), "vocabulary_size": len(data.vocabulary)},
            texts={"experiment.yaml": yaml.safe_dump(to_dict(experiment), sort_keys=False),
                   "search_space.yaml": yaml.safe_dump(to_dict(experiment.space),
                                                       sort_keys=False)})
    else:
        parent_id = parent.info.run_id
        tracker.resume_campaign(parent_id)
    try:  # from here on the parent run ends FINISHED, FAILED or KILLED (a lost server: the
        # resume ends it), never left RUNNING by an exception
        if changes:
            progress(f"campaign {name} continues with changes (--allow-changes): "
                     + "; ".join(changes))
            tracker.set_tags(parent_id, {"resumed_with_changes": "; ".join(changes)[:5000]})
        if resuming:
            reconcile(search, tracker, parent_id, objective.metric, progress)
            tag_best(tracker, parent_id, objective.metric, objective.direction)
        summary = _run_trials(experiment, name, trials, store, attach_seed_table, executor,
                              progress, data, search, tracker, parent_id, commit)
    except KeyboardInterrupt:
        _end_quietly(tracker, parent_id, "KILLED")
        raise
    except Exception as err:  # CampaignStopped, a full disk, an executor that did not start
        if tracker.unreachable(err):  # nothing more can reach MLflow: the resume ends the run
            raise TrackingLost(f"the MLflow server {tracker.uri} does not answer (retried with "
                               "backoff); start it again and rerun this command to resume"
                               ) from err
        _end_quietly(tracker, parent_id, "FAILED")
        raise
    tracker.end_run(parent_id, "FINISHED")
    summary.wall_s = time.perf_counter() - start
    return summary


def _end_quietly(tracker: Tracker, run_id: str, status: str) -> None:
    """End the parent run on the way out of a failure, keeping the failure's own exception
    (the server may be the thing that went away: the next resume ends the run then). A busy
    sqlite store ("database is locked", seen once in the kill matrix on the SIGTERM path) is
    tried again, up to about 7 s."""
    for wait in (1.0, 2.0, 4.0, None):
        try:
            tracker.end_run(run_id, status)
            return
        except Exception as err:  # noqa: BLE001 - the failure that ended the campaign wins
            if wait is None or tracker.unreachable(err):
                return
            time.sleep(wait)


def _run_trials(experiment: ExperimentConfig, name: str, trials: int, store: Store,
                attach_seed_table: bool, executor: Executor, progress: Callable[[str], None],
                data: PreparedData, search: Search, tracker: Tracker, parent_id: str,
                commit: str) -> CampaignSummary:
    objective = experiment.objective
    if attach_seed_table:
        _attach_seed_table(search, tracker, parent_id, experiment, progress)
    ex = experiment.execution
    tracker.set_tags(parent_id, {"executor": executor.name, "workers": executor.capacity,
                                 "early_stopping": experiment.early_stopping.enabled,
                                 **({"ray_address": ex.ray_address or "local",
                                     "gpus_per_trial": ex.gpus_per_trial,
                                     "cpus_per_trial": ex.cpus_per_trial}
                                    if executor.name == "ray" else {})})
    writer = BackgroundWriter()
    # the baselines are computed while the first trials train
    baselines = writer.submit(log_baselines, tracker, parent_id, experiment, data, store)
    loop = TrialLoop(experiment, name, trials, data, search, tracker, parent_id, commit, executor,
                     progress, cache_file=cache_path(store.cache_dir, data.fingerprint),
                     writer=writer)
    loop.run()
    rows = tracker.trial_rows(parent_id)
    best = best_row(rows, objective.metric, objective.direction)
    if best is not None:
        score_winner_on_test(tracker, parent_id, best, data, progress)
        if baselines.result():
            progress(baselines.result())
    predicted = search.predicted_best()
    if predicted is not None:
        tracker.set_tags(parent_id, {"ax_predicted_best_trial": predicted[0],
                                     "ax_predicted_best_value": predicted[1]})
    return CampaignSummary(name, parent_id, loop.completed, loop.failed, best,
                           format_table(loop.table(rows)), 0.0, loop.early_stopped)


def changed_records(tracker: Tracker, parent, experiment: ExperimentConfig,
                    data: PreparedData) -> list[str]:
    """What differs between the experiment now and what campaign `parent` recorded when it
    was made: its data, search space, objective and strategy (empty: nothing)."""
    tags, objective = parent.data.tags, experiment.objective
    out = []
    if tags.get("data_fingerprint", data.fingerprint) != data.fingerprint:
        out.append(f"different data (fingerprint {tags['data_fingerprint']} → "
                   f"{data.fingerprint})")
    recorded = yaml.safe_load(tracker.read_text(parent.info.run_id, "search_space.yaml"))
    space = space_changes(recorded, to_dict(experiment.space))
    if space:
        out.append(f"a different search space ({', '.join(space)})")
    now = {"objective": ("metric", objective.metric),
           "direction": ("direction", objective.direction),
           "objective_folds": ("folds", objective.folds),
           "objective_replicates": ("replicates", objective.replicates)}
    moved = [f"{shown} {tags[tag]} → {value}" for tag, (shown, value) in now.items()
             if tag in tags and tags[tag] != str(value)]
    if moved:
        out.append(f"a different objective ({', '.join(moved)})")
    if tags.get("strategy", experiment.optimizer.strategy) != experiment.optimizer.strategy:
        out.append(f"a different strategy ({tags['strategy']} → "
                   f"{experiment.optimizer.strategy})")
    return out


def space_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Each parameter whose definition differs, as 'name field old → new' (tuned parameters
    and fixed values; descriptions do not count)."""
    out = []
    for group in ("parameters", "fixed"):
        old, new = before.get(group) or {}, after.get(group) or {}
        for key in [*old, *(k for k in new if k not in old)]:
            if key not in new:
                out.append(f"{key} removed")
            elif key not in old:
                out.append(f"{key} added")
            elif old[key] != new[key]:
                if isinstance(old[key], dict) and isinstance(new[key], dict):
                    out += [f"{key} {field} {_shown(old[key].get(field))} → "
                            f"{_shown(new[key].get(field))}"
                            for field in [*old[key], *(f for f in new[key] if f not in old[key])]
                            if old[key].get(field) != new[key].get(field)]
                else:
                    out.append(f"{key} {_shown(old[key])} → {_shown(new[key])}")
    return out


def _shown(value: Any) -> str:
    return "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list | tuple) \
        else str(value)


def score_winner_on_test(tracker: Tracker, parent_id: str, best: dict[str, Any],
                         data: PreparedData, progress: Callable[[str], None]) -> None:
    """Score the campaign's chosen winner on the test split, once, and record it on the parent
    run. Chosen on validation before this; nothing is chosen by test score after it."""
    parent_tags = tracker.client.get_run(parent_id).data.tags
    if parent_tags.get("test_scored_run_id") == best["run_id"]:
        return
    classifier = tracker.load_classifier(best["run_id"])
    if classifier is None:
        return
    proba = classifier.predict_ids(data.x_test)
    metrics = flat_metrics(evaluation(data.y_test, proba, data.class_names), "test_")
    if len(data.class_names) == 2:
        metrics.update(flat_metrics(evaluation(data.y_test, proba, data.class_names,
                                               classifier.threshold), "test_at_opt_"))
    tracker.log_metrics(parent_id, metrics)
    tracker.log_metrics(best["run_id"], metrics)
    index = best["tags"]["ax_trial_index"]
    tracker.set_tags(parent_id, {"test_scored_run_id": best["run_id"],
                                 "test_scored_trial": index})
    tracker.set_tags(best["run_id"], {"test_evaluated": "winner"})
    progress(f"winner trial {index} on the held-out test split (scored once): "
             f"macro F1 {metrics['test_macro_f1']:.4f}, ROC AUC {metrics['test_roc_auc']:.4f}")


BASELINE_SLUGS = {"majority class": "majority", "TextBlob lexicon": "textblob",
                  "VADER lexicon": "vader", "TF-IDF + logistic regression": "tfidf_logreg"}


def log_baselines(tracker: Tracker, run_id: str, experiment: ExperimentConfig,
                  data: PreparedData, store: Store) -> str | None:
    """The baselines (majority, TextBlob, VADER, TF-IDF + logistic regression fitted on the
    train split) on the run's own validation and test rows, logged once: `baselines.json` and
    metrics `baseline_<name>_<split>_<metric>` (what RESULTS.md sets beside our figures).
    Computed once per prepared data (cached beside its arrays). Returns the line that sets
    their test scores beside the winner's (None when they were logged before)."""
    if tracker.client.get_run(run_id).data.tags.get("baselines_logged"):
        return None
    cached = store.cache_dir / f"{data.fingerprint}-baselines.json"
    if cached.exists():
        table = pd.read_json(io.StringIO(cached.read_text()), orient="records")
    else:
        table = baseline_table(split_texts(experiment, store.data_dir, data), data.class_names,
                               experiment.seed)
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(table.to_json(orient="records", indent=1))
    metrics = {f"baseline_{BASELINE_SLUGS.get(r['baseline'], r['baseline'])}_{r['split']}_{k}": v
               for r in table.to_dict("records") for k, v in r.items()
               if k not in ("baseline", "split") and np.isfinite(v)}
    tracker.log_metrics(run_id, metrics)
    tracker.log_files(run_id, texts={"baselines.json": table.to_json(orient="records",
                                                                        indent=1)})
    tracker.set_tags(run_id, {"baselines_logged": "true"})
    # the objective's own score, to set beside the winner's test line
    score = experiment.objective.metric.removeprefix("val_")
    score = score if score in table.columns else "accuracy"
    test = table[table["split"] == "test"].set_index("baseline")[score]
    return f"baselines on the same test rows ({score}): " + ", ".join(
        f"{name} {value:.4f}" for name, value in test.items())


def _check_seed_table_fits(experiment: ExperimentConfig) -> None:
    space = experiment.space
    for _, params, _ in seed_rows():
        for name, value in params.items():
            spec = space.parameters.get(name)
            if spec is None or spec.type == "choice" or not (
                    spec.bounds[0] <= value <= spec.bounds[1]):
                raise InputError(space.path, f"parameters.{name}",
                                 f"must be a range covering seed 000's Table 5 value {value} "
                                 "to attach the paper's rows")


def _attach_seed_table(search: Search, tracker: Tracker, parent_id: str,
                       experiment: ExperimentConfig, progress) -> None:
    known = {t["arm_name"] for t in search.trials()}
    space = experiment.space
    for arm, params, value in seed_rows():
        if arm in known:
            continue
        index = search.attach(params, arm)
        run_id = tracker.start_trial(parent_id, arm, {**params, **space.fixed}, {
            "campaign": search.name, "source": "paper", "ax_trial_index": index,
            "arm_name": arm, "generation": "attached",
            "note": "seed 000 Table 5: 2016 election tweets, weak labels, binary accuracy; "
                    "not comparable with this campaign's objective"})
        tracker.log_metrics(run_id, {"paper_keras_cv": value})
        tracker.end_run(run_id, "FINISHED")
    progress(f"attached seed 000's Table 5 ({len(seed_rows())} rows, tagged source=paper)")


@dataclass
class Running:
    """A trial handed to the executor and not yet told to Ax."""

    index: int
    run_id: str
    params: dict[str, Any]  # tuned + fixed
    generation: str
    started: float
    unit_epochs: list[int] = field(default_factory=list)  # epochs of the finished units
    stop_epoch: int | None = None  # Ax's early-stopping verdict came after this epoch


@dataclass
class TrialLoop:
    """Asks Ax for as many trials as the executor has free workers, submits them, and tells
    each result to Ax as it arrives. The only process talking to Ax and MLflow."""

    experiment: ExperimentConfig
    name: str
    trials: int
    data: PreparedData
    search: Search
    tracker: Tracker
    parent_id: str
    commit: str
    executor: Executor
    progress: Callable[[str], None]
    cache_file: Path | None = None
    completed: int = 0
    failed: int = 0
    early_stopped: int = 0
    best: tuple[str, float, int] | None = None  # run id, objective value, trial index
    running: dict[int, Running] = field(default_factory=dict)
    poll_s: float = 1.0
    writer: BackgroundWriter = field(default_factory=BackgroundWriter)
    prefetching: cf.Future | None = None  # Ax generating the next trial during training
    prefetched: dict[int, dict[str, Any]] = field(default_factory=dict)
    tracking_lost: Exception | None = None  # the MLflow server stopped answering mid-trial

    @property
    def done(self) -> int:
        """Trials that count toward the budget: completed, or stopped early by Ax."""
        return self.completed + self.early_stopped

    def run(self) -> None:
        metric, direction = self.experiment.objective.metric, self.experiment.objective.direction
        best = best_row(self.tracker.trial_rows(self.parent_id), metric, direction)
        if best is not None:
            self.best = (best["run_id"], best["metrics"][metric],
                         int(best["tags"]["ax_trial_index"]))
        ours = [t for t in self.search.trials() if not (t["arm_name"] or "").startswith("paper_")]
        self.completed = sum(t["status"] == "COMPLETED" for t in ours)
        self.failed = sum(t["status"] == "FAILED" for t in ours)
        self.early_stopped = sum(t["status"] == "EARLY_STOPPED" for t in ours)
        self.seen = {params_identity(t["params"]) for t in self.search.trials()}
        if self.done:
            self.progress(f"resuming {self.name}: {self.completed} completed, "
                          f"{self.failed} failed, {self.trials - self.done} to go")
        self.durations: list[float] = []
        tolerated = self.experiment.budget.max_failure_rate * self.trials
        es = self.experiment.early_stopping
        objective = self.experiment.objective
        spec = TrialSpec(self.experiment.seed, self.experiment.model.family, objective.folds,
                         objective.replicates, epoch_metrics=es.enabled,
                         await_verdict=es.enabled, device=self.experiment.execution.device)
        try:
            self.executor.start(self.data, spec, self.cache_file)
            while self.done < self.trials or self.running:
                if self.failed > tolerated:
                    raise CampaignStopped(f"{self.failed} trials failed (tolerated: "
                                          f"{self.experiment.budget.max_failure_rate:.0%} of "
                                          f"{self.trials})")
                self._fill()
                if not self.running:
                    if self.done >= self.trials:
                        break
                    raise CampaignStopped("Ax proposed no further trial")
                self._prefetch()
                outcomes = self.executor.poll(self.poll_s, self._on_event)
                self._await_prefetch()  # Ax is used by one thread at a time
                for outcome in outcomes:
                    self._finish(outcome)
            self._abandon_prefetched()
            self.writer.drain()  # the best model is logged before anyone reads it
            self._log_table()  # again: the last trial's write may have been cut by a kill
        except BaseException as err:
            self._abandon_running(err)
            raise
        finally:
            self.executor.close()
            self.writer.close()
            if hasattr(self, "_asker"):  # the prefetch thread, idle by now
                self._asker.shutdown(wait=False)

    # ---- asking ------------------------------------------------------------------------------

    def _free_slots(self) -> int:
        free = self.executor.capacity - len(self.running)
        wanted = self.trials - self.done - len(self.running)
        count = min(free, wanted)
        cap = self.experiment.optimizer.bayesian_concurrency
        if cap and count > 0 and self.search.phase() == "BoTorch":
            count = min(count, cap - len(self.running))
        return count

    def _fill(self) -> None:
        """Ask Ax for a trial per free worker. Ax may give fewer (end of the Sobol budget,
        waiting for data): the loop then waits for running trials to report."""
        duplicates = 0
        while (count := self._free_slots()) > 0:
            asked, self.prefetched = self.prefetched or self.search.ask(count), {}
            if not asked:
                return
            for index, params in asked.items():
                if params_identity(params) in self.seen:  # never train a parameterization twice
                    self.search.abandon(index)
                    self.progress(f"trial {index}: duplicate parameters, abandoned and asked "
                                  "again")
                    duplicates += 1
                    if duplicates > 20:
                        raise CampaignStopped("Ax keeps proposing trained parameters")
                    continue
                self.seen.add(params_identity(params))
                self._start(index, params)

    def _prefetch(self) -> None:
        """One trial at a time: ask Ax for the next candidate in a thread while this trial
        trains (the running trial is pending in Ax's model, as with a second worker)."""
        cap = self.experiment.optimizer.bayesian_concurrency
        if (not self.experiment.optimizer.prefetch or self.executor.capacity != 1
                or self.search.early_stopping or self.prefetching or self.prefetched
                or self.done + len(self.running) >= self.trials
                or (cap == 1 and self.search.phase() == "BoTorch")):
            return
        if not hasattr(self, "_asker"):
            self._asker = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="hpo-ask")
        self.prefetching = self._asker.submit(self.search.ask, 1)

    def _await_prefetch(self) -> None:
        if self.prefetching is not None:
            future, self.prefetching = self.prefetching, None
            self.prefetched = future.result()

    def _abandon_prefetched(self) -> None:
        """A candidate asked for but never started (the campaign ended first)."""
        self._await_prefetch()
        for index in self.prefetched:
            self.search.abandon(index)
        self.prefetched = {}

    def _start(self, index: int, tuned: dict[str, Any]) -> None:
        exp, space = self.experiment, self.experiment.space
        params = {**tuned, **space.fixed}
        generation = self.search.generation_of(index)
        run_id = self.tracker.start_trial(self.parent_id, f"trial-{index}", params, {
            "campaign": self.name, "source": "campaign", "ax_trial_index": index,
            "arm_name": f"{index}_0", "generation": generation, "seed": exp.seed,
            "data_fingerprint": self.data.fingerprint, "git_commit": self.commit,
            "executor": self.executor.name})
        self.writer.submit(self.tracker.log_files, run_id, texts={"config.yaml": yaml.safe_dump(
            trial_config(exp, params, exp.seed, self.data, self.commit), sort_keys=False)})
        self.running[index] = Running(index, run_id, params, generation, time.perf_counter())
        shown = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in tuned.items())
        self.progress(f"[{self.done}/{self.trials} completed, {self.failed} failed, "
                      f"{len(self.running)} running] trial {index} ({generation}) started: "
                      f"{shown}")
        self.executor.submit(index, params)

    # ---- what running trials report -----------------------------------------------------

    def _on_event(self, event: Event) -> bool:
        trial = self.running.get(event.index)
        if trial is None:  # a trial this campaign already gave up on
            return True
        units = self.experiment.objective.folds * self.experiment.objective.replicates
        if event.kind == "unit":
            trial.unit_epochs.append(int(event.metrics.get("epochs_run", 0)))
            if units > 1:  # per-fold / per-seed values, step = unit number
                self.tracker.log_metrics(trial.run_id, {f"unit_{k}": v for k, v in
                                                        event.metrics.items()}, step=event.unit)
            return False
        # an epoch: MLflow gets it now (step = epochs so far, across units)
        try:
            self.tracker.log_epoch(trial.run_id, sum(trial.unit_epochs) + event.epoch,
                                   event.logs)
        except Exception as err:
            if not self.tracker.unreachable(err):
                raise
            self.tracking_lost = err  # not the trial's fault: stop it, _finish raises this
            return True
        fault_point("epoch")
        unit = f" unit {event.unit}/{units}" if units > 1 else ""
        logs = event.logs
        self.progress(f"  trial {event.index}{unit} epoch {event.epoch}/{event.epochs}  loss "
                      f"{logs.get('loss', 0):.4f}  val_loss {logs.get('val_loss', 0):.4f}")
        if not self.search.early_stopping or event.unit > 1:
            return False
        metric = self.experiment.objective.metric
        if not np.isfinite(logs.get(metric, np.nan)):  # e.g. ROC AUC with one class present
            return False
        self.search.report(event.index, metric, logs[metric], event.epoch)
        if event.epoch >= event.epochs or not self.search.should_stop(event.index):
            return False
        trial.stop_epoch = event.epoch
        self.progress(f"  trial {event.index}: Ax stops it after epoch {event.epoch} "
                      f"({metric} {logs[metric]:.4f} is behind the other trials' curves)")
        return True

    # ---- what finished trials return ----------------------------------------------------

    def _finish(self, outcome: TrialOutcome) -> None:
        """Record a finished trial: MLflow first (the run still RUNNING), then Ax, then the run
        ends. A process that dies between any two steps is repaired on resume (records); an
        exception before Ax is told leaves the trial in `running`, abandoned on the way out."""
        trial = self.running.get(outcome.index)
        if trial is None:
            return
        if self.tracking_lost is not None:
            raise self.tracking_lost
        index, run_id = outcome.index, trial.run_id
        self.durations.append(time.perf_counter() - trial.started)
        if outcome.device:
            self.tracker.set_tags(run_id, outcome.device)
        metric = self.experiment.objective.metric
        result = outcome.result
        error = outcome.error
        if error is None and not np.isfinite(result.mean[metric]):
            error = f"ValueError: {metric} is {result.mean[metric]}"
        if error is not None:
            self.tracker.set_tags(run_id, {"error": error})
            self.search.fail(index, error)
            self.running.pop(index)
            self.tracker.end_run(run_id, "FAILED")
            self.failed += 1
            self.progress(f"trial {index} FAILED: {error}")
        elif result.stopped:
            self._record_early_stop(trial, result)
        else:
            units = len(result.units)
            value = result.mean[metric]
            progression = None
            if self.search.early_stopping:  # the final value closes the per-epoch curve
                progression = int(result.units[0].metrics["epochs_run"])
            new_best = self._record(trial, outcome)
            fault_point("recorded")
            # Ax is told the mean and its standard error, so its model treats trials as noisy
            self.search.tell(index, {metric: (value, result.sem(metric)) if units > 1
                                     else value}, progression)
            self.running.pop(index)
            fault_point("told")
            self.tracker.end_run(run_id, "FINISHED")
            self.completed += 1
            fault_point("finished")
            self._record_campaign(new_best)
        self._report()

    def _record_early_stop(self, trial: Running, result: ObjectiveResult) -> None:
        """Stopped by Ax: EARLY_STOPPED in Ax, tagged in MLflow (FINISHED, never the best)."""
        unit = result.units[0]
        self.tracker.log_metrics(trial.run_id, {**result.mean, **{
            f"time_{k}": v for k, v in result.timings.items()}},
            step=len(unit.history.get("loss", [])))
        self.tracker.set_tags(trial.run_id, {
            "early_stopped": "ax", "ax_status": "EARLY_STOPPED",
            "stopped_after_epoch": int(unit.metrics["epochs_run"]),
            "planned_epochs": int(trial.params["num_epochs"])})
        self.search.early_stop(trial.index)
        self.running.pop(trial.index)
        self.tracker.end_run(trial.run_id, "FINISHED")
        self.early_stopped += 1
        self.progress(f"trial {trial.index} EARLY_STOPPED by Ax after "
                      f"{int(unit.metrics['epochs_run'])} of {trial.params['num_epochs']} "
                      "epochs")

    def _record(self, trial: Running, outcome: TrialOutcome) -> bool:
        """A completed trial's metrics, figures and (a new best) model, on its RUNNING run.
        True when it is the new best."""
        exp, data, result = self.experiment, self.data, outcome.result
        run_id, index = trial.run_id, trial.index
        metric, direction = exp.objective.metric, exp.objective.direction
        pooled = len(result.units) > 1  # details of the pooled predictions, beside the means
        details = validation_details(result.val_true, result.val_proba, data.class_names,
                                     "pooled_val_" if pooled else "val_")
        spread = {f"{metric}_sd": result.sd(metric), f"{metric}_sem": result.sem(metric)} \
            if pooled else {}  # one run per trial has no spread (Table 5 then has no ± sd)
        metrics = {**details, **result.mean, **spread,
                   **{f"time_{k}": v for k, v in result.timings.items()},
                   "time_prepare_s": data.prepare_seconds, "time_trial_s": outcome.seconds}
        self.tracker.log_metrics(run_id, metrics, step=sum(
            len(u.history.get("loss", [])) for u in result.units))
        self.tracker.set_tags(run_id, {"units": ", ".join(result.unit_names)})
        self.writer.submit(self._log_figures, run_id, index, result)  # off the path
        value = result.mean[metric]
        if self.best is not None and not (value > self.best[1] if direction == "maximize"
                                          else value < self.best[1]):
            return False
        # log the model of each new best before its run finishes, so the best always has one
        threshold = details.get(("pooled_val_" if pooled else "val_") + "opt_threshold", 0.5)
        model = result.model if result.model is not None else rebuild_model(
            outcome, trial.params, exp.model.family, data)
        classifier = TextClassifier(model, data.vocabulary, exp.cleaning,
                                    data.sequence_length, data.class_names, threshold)
        self.tracker.log_classifier(run_id, classifier)
        self.best = (run_id, value, index)
        return True

    def _record_campaign(self, new_best: bool) -> None:
        """The parent run: its best (once the best's run has finished), progress and tables."""
        metric = self.experiment.objective.metric
        if new_best:
            run_id, value, index = self.best
            self.tracker.set_tags(self.parent_id, {
                "best_run_id": run_id, "best_trial_index": index, f"best_{metric}": value})
        self.tracker.log_metrics(self.parent_id, {f"best_{metric}": self.best[1],
                                                  "completed_trials": self.completed},
                                 step=self.completed)
        self.writer.submit(self._log_table)

    # ---- background writes (BackgroundWriter's thread; not part of the records' agreement) --

    def _log_figures(self, run_id: str, index: int, result: ObjectiveResult) -> None:
        where = "out-of-fold" if self.experiment.objective.folds > 1 else "validation"
        names = self.data.class_names
        figures = {
            "learning_curves.png": plots.learning_curves(result.units[0].history,
                                                         f"trial {index}, {result.unit_names[0]}"),
            "confusion_matrix.png": plots.confusion_matrix(
                result.val_true, predictions(result.val_proba), names, f"trial {index}, {where}"),
            "roc.png": plots.roc(result.val_true, result.val_proba, names,
                                 f"trial {index}, {where}")}
        try:
            self.tracker.log_files(run_id, figures=figures)
        finally:
            for figure in figures.values():
                plots.close(figure)

    def _log_table(self) -> None:
        table = self.table(self.tracker.trial_rows(self.parent_id))
        self.tracker.log_files(self.parent_id, texts={
            "table5.md": format_table(table, "markdown"), "table5.csv": format_table(table, "csv"),
            "table5.txt": format_table(table)})

    def _abandon_running(self, err: BaseException) -> None:
        """The campaign is ending with trials in flight (Ctrl-C, a stop, an error): they are
        abandoned in Ax and KILLED in MLflow, and their workers are stopped."""
        self.executor.cancel_all()
        try:
            self._abandon_prefetched()
        except Exception:  # noqa: BLE001 - the next run's resume abandons it
            pass
        reason = ("interrupted by the user" if isinstance(err, KeyboardInterrupt)
                  else f"campaign ended: {type(err).__name__}: {err}"[:500])
        lost = self.tracker.unreachable(err)  # then MLflow is left to the resume
        for trial in list(self.running.values()):
            try:
                self.search.abandon(trial.index)
                if not lost:
                    self.tracker.set_tags(trial.run_id, {"error": reason})
                    self.tracker.end_run(trial.run_id, "KILLED")
            except Exception as failure:  # noqa: BLE001 - the resume closes what is left
                lost = lost or self.tracker.unreachable(failure)
        self.running.clear()

    def table(self, rows: list[dict[str, Any]]):
        objective = self.experiment.objective
        return table5(rows, list(self.experiment.space.parameters), objective.metric,
                      objective.direction)

    def _report(self) -> None:
        metric = self.experiment.objective.metric
        remaining = self.trials - self.done
        eta = remaining * (sum(self.durations) / len(self.durations)) / self.executor.capacity
        best = (f"best {metric} {self.best[1]:.4f} (trial {self.best[2]})" if self.best
                else "no best yet")
        stopped = f", {self.early_stopped} early-stopped" if self.early_stopped else ""
        self.progress(f"[{self.done}/{self.trials} completed, {self.failed} failed{stopped}, "
                      f"{len(self.running)} running] {best}; ETA {eta / 60:.1f} min")


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


def params_identity(params: dict[str, Any]) -> tuple:
    return tuple(sorted((k, round(v, 10) if isinstance(v, float) else v)
                        for k, v in params.items()))


def with_strategy(experiment: ExperimentConfig, strategy: str | None) -> ExperimentConfig:
    """The experiment with a CLI override of the generation strategy."""
    if not strategy:
        return experiment
    return dataclasses.replace(experiment, optimizer=dataclasses.replace(
        experiment.optimizer, strategy=strategy))


def with_execution(experiment: ExperimentConfig, early_stopping: bool | None = None,
                   **overrides: Any) -> ExperimentConfig:
    """The experiment with CLI overrides of `execution` (None values keep the YAML's) and of
    `early_stopping.enabled`, checked like the YAML."""
    changes = {k: v for k, v in overrides.items() if v is not None}
    execution = dataclasses.replace(experiment.execution, **changes)
    if "workers" in changes and "executor" not in changes and execution.workers > 1 \
            and execution.executor == "inline":
        execution = dataclasses.replace(execution, executor="local")  # --workers N alone
    check_execution(execution, "command line")
    es = experiment.early_stopping
    if early_stopping is not None:
        es = dataclasses.replace(es, enabled=early_stopping)
    out = dataclasses.replace(experiment, execution=execution, early_stopping=es)
    check_early_stopping(out, "command line")
    return out
