"""A campaign's lifecycle: open it (create, or resume and reconcile), run its trials, choose
and score its winner, and end its parent run FINISHED, FAILED or KILLED.

    summary = run_campaign(load_experiment("gop_debate_lstm"), "gop-1", trials=20,
                           store=Store(Path("mlruns"), data_dir=Path("data")))

A campaign of the same name resumes: completed trials are kept, the trials that were running
when the process died are abandoned in Ax and KILLED in MLflow, and their slots are proposed
again until `trials` trials have completed (or were stopped early by Ax). A trial that raises
is failed in both and the campaign goes on, up to the experiment's tolerated failure rate.
This process is the only one talking to Ax and MLflow; executors only train.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from ... import tags as T
from ...config import ExperimentConfig, to_dict
from ...data import PreparedData, cache_path, prepare
from ...errors import InputError
from ...evaluation import format_table, seed_rows
from ..execution.protocol import Executor
from ..execution.registry import make_executor
from ..store.lock import campaign_lock
from ..store.paths import Store
from ..store.search import Search
from ..store.tracking import Tracker
from .background import BackgroundWriter
from .intensify import intensify, intensify_plan
from .provenance import data_tags, git_commit
from .reconcile import reconcile, tag_best
from .record import CampaignRecord, best_trial
from .recorder import Recorder
from .refit import refit_winner
from .resume_check import changed_records
from .scheduler import CampaignStopped, Scheduler
from .scoring import log_baselines, score_winner
from . import seed_table


class TrackingLost(CampaignStopped):
    """The MLflow server stopped answering (after MLflow's own retries with backoff)."""


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
    raced: int = 0  # trials stopped by racing ...
    units_saved: int = 0  # ... and the units (seeds) they did not train


def run_campaign(experiment: ExperimentConfig, name: str, trials: int, store: Store,
                 attach_seed_table: bool = False, executor: Executor | None = None,
                 progress: Callable[[str], None] = print,
                 allow_changes: bool = False) -> CampaignSummary:
    """Create or resume campaign `name`, holding its lock (CampaignBusy if another process runs
    it). A resumed campaign is first checked against what it recorded (InputError naming the
    change, unless `allow_changes`), then Ax and MLflow are reconciled (see reconcile)."""
    start = time.perf_counter()
    intensify_plan(experiment, trials)  # too few trials for intensify: said before any write
    with campaign_lock(store.path, name):
        record, changes, resuming = open_campaign_record(
            experiment, name, trials, store, progress, allow_changes, attach_seed_table)
        executor = executor or make_executor(record.experiment.execution)
        tracker, parent_id = record.tracker, record.parent_id
        try:  # from here on the parent run ends FINISHED, FAILED or KILLED (a lost server:
            # the resume ends it), never left RUNNING by an exception
            if changes:
                progress(f"campaign {name} continues with changes (--allow-changes): "
                         + "; ".join(changes))
                tracker.set_tags(parent_id, {T.RESUMED_WITH_CHANGES: "; ".join(changes)[:5000]})
            if resuming:
                reconcile(record.search, tracker, parent_id, record.metric, progress)
                tag_best(tracker, parent_id, record.metric, record.direction)
            if attach_seed_table:
                seed_table.attach_seed_table(record)
            summary = run_trials(record, executor)
        except KeyboardInterrupt:
            _end_quietly(tracker, parent_id, "KILLED")
            raise
        except Exception as err:  # CampaignStopped, a full disk, an executor that failed
            if tracker.unreachable(err):  # nothing more can reach MLflow: the resume ends it
                raise TrackingLost(f"the MLflow server {tracker.uri} does not answer (retried "
                                   "with backoff); start it again and rerun this command to "
                                   "resume") from err
            _end_quietly(tracker, parent_id, "FAILED")
            raise
        tracker.end_run(parent_id, "FINISHED")
    summary.wall_s = time.perf_counter() - start
    return summary


def open_campaign_record(experiment: ExperimentConfig, name: str, trials: int, store: Store,
                         progress: Callable[[str], None], allow_changes: bool,
                         attach_seed_table: bool) -> tuple[CampaignRecord, list[str], bool]:
    """The campaign's record: a new parent run, or the existing one checked against what it
    recorded (nothing is written before that check). Also: what changed, and whether this is
    a resume."""
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
    if attach_seed_table:
        seed_table.check_seed_table_fits(experiment)
    data = prepare(experiment, store.data_dir, store.cache_dir, progress=progress)
    if parent is not None:
        changes += changed_records(tracker, parent, experiment, data)
        if changes and not allow_changes:
            raise InputError(f"campaign {name}", None, "was made with " + "; ".join(changes)
                             + "; pass --allow-changes to continue it anyway")
    commit = git_commit()
    resuming = parent is not None or Search.exists(name, store.ax_location)
    search = Search.open(name, experiment.space, experiment.objective, experiment.optimizer,
                         experiment.seed, store.ax_location,
                         prior_trials=len(seed_rows()) if attach_seed_table else 0,
                         early_stopping=experiment.early_stopping)
    if parent is None:
        parent_id = _start_parent(tracker, experiment, name, trials, data, store, commit)
    else:
        parent_id = parent.info.run_id
        tracker.resume_campaign(parent_id)
    record = CampaignRecord(experiment, name, trials, store, data, search, tracker, parent_id,
                            commit, progress)
    return record, changes, resuming


def _start_parent(tracker: Tracker, experiment: ExperimentConfig, name: str, trials: int,
                  data: PreparedData, store: Store, commit: str) -> str:
    objective = experiment.objective
    return tracker.start_campaign(
        experiment.name, name,
        tags={"experiment_file": experiment.path, "search_space": experiment.space.path,
              T.OBJECTIVE: objective.metric, T.DIRECTION: objective.direction,
              T.STRATEGY: experiment.optimizer.strategy, "n_trials": trials,
              T.OBJECTIVE_FOLDS: objective.folds, T.OBJECTIVE_REPLICATES: objective.replicates,
              T.DATA_FINGERPRINT: data.fingerprint, T.GIT_COMMIT: commit,
              "repro_cmd": f"sentiment-hpo reproduce {name}",
              **data_tags(experiment, store.data_dir),  # later commands find the data
              # the UI shows these as columns, in this order
              T.PARAMETERS: ",".join([*experiment.space.parameters, *experiment.space.fixed])},
        params={"seed": experiment.seed, "family": experiment.model.family,
                "dataset": experiment.data.describe(), "label_mode": experiment.labels.mode,
                "classes": experiment.labels.classes,
                "train_rows": len(data.y_train), "val_rows": len(data.y_val),
                "test_rows": len(data.y_test), "vocabulary_size": len(data.vocabulary)},
        texts={"experiment.yaml": yaml.safe_dump(to_dict(experiment), sort_keys=False),
               "search_space.yaml": yaml.safe_dump(to_dict(experiment.space),
                                                   sort_keys=False)})


def run_trials(record: CampaignRecord, executor: Executor) -> CampaignSummary:
    """The trials (scheduler + recorder), then the campaign's end: the top trials intensified
    (with `intensify`: the search runs the trials its reserve leaves), the winner refit on
    train + validation (with `refit`), the final model scored once on test beside the
    baselines, and Ax's model-predicted best recorded for comparison."""
    exp, tracker, parent_id = record.experiment, record.tracker, record.parent_id
    plan = intensify_plan(exp, record.trials)
    searching = dataclasses.replace(record, trials=plan.search_trials) if plan else record
    tracker.set_tags(parent_id, {T.EXECUTOR: executor.name, "workers": executor.capacity,
                                 "early_stopping": exp.early_stopping.enabled,
                                 T.SEARCH_TRIALS: searching.trials, **executor.tags()})
    if plan and plan.reserve:
        record.progress(f"intensify: {plan.reserve} of {record.trials} trials' units kept "
                        f"back for the top {plan.top} trials (at least {plan.min_units} units "
                        f"each); the search runs {plan.search_trials} trials")
    writer = BackgroundWriter()
    # the baselines are computed while the first trials train
    baselines = writer.submit(log_baselines, tracker, parent_id, exp, record.data,
                              record.store)
    recorder = Recorder(searching, writer, executor.name)
    recorder.load()
    try:
        Scheduler(searching, executor, recorder,
                  cache_file=cache_path(record.store.cache_dir, record.data.fingerprint)).run()
        writer.drain()  # the best model is logged before anyone reads it
        if plan:
            intensify(record, plan)
            tag_best(tracker, parent_id, record.metric, record.direction)
        recorder.log_table()  # again: the last trial's write may have been cut by a kill
    finally:
        writer.close()
    rows = record.rows()
    best = best_trial(rows, record.metric, record.direction)
    if best is not None:
        score_winner(tracker, parent_id, best, record.data, record.progress,
                     refit_winner(record, best))
        if baselines.result():
            record.progress(baselines.result())
    predicted = record.search.predicted_best()
    if predicted is not None:
        tracker.set_tags(parent_id, {"ax_predicted_best_trial": predicted[0],
                                     "ax_predicted_best_value": predicted[1]})
    return CampaignSummary(record.name, parent_id, recorder.completed, recorder.failed, best,
                           format_table(recorder.table(rows)), 0.0, recorder.early_stopped,
                           recorder.raced, recorder.units_saved)


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
