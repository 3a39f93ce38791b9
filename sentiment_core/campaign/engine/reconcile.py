"""Ax and MLflow tell the same story of every trial, whatever ended the last process.

The recorder writes a finished trial in this order (see recorder.Recorder.finish):
  1. MLflow: metrics, figures and, for a new best, the model; the run stays RUNNING
  2. Ax: the trial is told COMPLETED (FAILED, EARLY_STOPPED) and saved
  3. MLflow: the run ends FINISHED (FAILED); then the parent's best and tables
so a process that dies anywhere leaves one of a few states, each repaired by `reconcile` when
the campaign resumes (before anything new is asked):

  Ax RUNNING (any MLflow state)         -> ABANDONED in Ax, its run KILLED (trained again later)
  Ax COMPLETED, run RUNNING with value  -> the run ends FINISHED (steps 1-2 were done)
  Ax COMPLETED, run without the value   -> Ax's value is logged, the run ends FINISHED, tagged
                                           recovered_from_ax (no figures, no model: never best)
  Ax FAILED / EARLY_STOPPED, run RUNNING -> the run ends FAILED / FINISHED (tagged)
  Ax ABANDONED, run RUNNING             -> KILLED

`check_agreement` lists what still differs (the tests call it after every fault).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ... import tags as T
from ..store.search import Search
from ..store.tracking import Tracker
from .record import best_trial

INTERRUPTED = "interrupted: the campaign process ended while this trial ran"
RECOVERED = ("the process ended after Ax had this result and before MLflow did: the value is "
             "Ax's; no figures, no model")
# what an Ax status looks like in MLflow (EARLY_STOPPED also carries the early_stopped tag)
MLFLOW_STATUS = {"COMPLETED": "FINISHED", "EARLY_STOPPED": "FINISHED", "FAILED": "FAILED",
                 "ABANDONED": "KILLED"}


def _ours(search: Search) -> list[dict[str, Any]]:
    """The campaign's own Ax trials (not the attached paper rows)."""
    return [t for t in search.trials() if t["generation"] != "attached"]


def _runs_by_trial(tracker: Tracker, parent_id: str) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for row in tracker.trial_rows(parent_id):
        tags = T.trial_tags(row)
        if tags.campaign_trial:
            out.setdefault(tags.trial_index, []).append(row)
    return out


def reconcile(search: Search, tracker: Tracker, parent_id: str, metric: str,
              progress: Callable[[str], None]) -> None:
    """Bring Ax and MLflow to agree after a process ended anywhere (see the module doc)."""
    runs = _runs_by_trial(tracker, parent_id)
    values = None
    known = set()
    for trial in _ours(search):
        index, status = trial["trial_index"], trial["status"]
        known.add(index)
        live = [r for r in runs.get(index, []) if r["status"] == "RUNNING"]
        if status in ("RUNNING", "CANDIDATE", "STAGED"):
            search.abandon(index)
            progress(f"trial {index} was running when the last process ended: abandoned")
            status = "ABANDONED"
        for run in live:
            run_id = run["run_id"]
            if status == "COMPLETED":
                if metric not in run["metrics"]:
                    values = search.values(metric) if values is None else values
                    tracker.log_metrics(run_id, {metric: values[index]})
                    tracker.set_tags(run_id, {T.RECOVERED_FROM_AX: RECOVERED})
                tracker.end_run(run_id, "FINISHED")
                progress(f"trial {index}: Ax had its result, its MLflow run {run_id} is "
                         "finished now")
            elif status == "EARLY_STOPPED":
                tracker.set_tags(run_id, {T.EARLY_STOPPED: "ax", T.AX_STATUS: "EARLY_STOPPED"})
                tracker.end_run(run_id, "FINISHED")
            elif status == "FAILED":
                if T.ERROR not in run["tags"]:
                    tracker.set_tags(run_id, {T.ERROR: INTERRUPTED})
                tracker.end_run(run_id, "FAILED")
            else:
                tracker.set_tags(run_id, {T.ERROR: INTERRUPTED})
                tracker.end_run(run_id, "KILLED")
                progress(f"run {run_id} marked KILLED")
    for index, rows in runs.items():  # a run Ax never heard of (cannot happen in this order)
        for run in rows:
            if index not in known and run["status"] == "RUNNING":
                tracker.set_tags(run["run_id"], {T.ERROR: INTERRUPTED})
                tracker.end_run(run["run_id"], "KILLED")
                progress(f"run {run['run_id']} marked KILLED")


def tag_best(tracker: Tracker, parent_id: str, metric: str, direction: str) -> dict | None:
    """The parent's best_* tags name the best finished trial (whose model was logged before
    its run finished); set again where a process ended before it could."""
    best = best_trial(tracker.trial_rows(parent_id), metric, direction)
    if best is None:
        return None
    tags = tracker.client.get_run(parent_id).data.tags
    if tags.get(T.BEST_RUN_ID) != best["run_id"]:
        tracker.set_tags(parent_id, {T.BEST_RUN_ID: best["run_id"],
                                     T.BEST_TRIAL_INDEX: best["tags"][T.AX_TRIAL_INDEX],
                                     f"best_{metric}": best["metrics"][metric]})
    return best


def check_agreement(search: Search, tracker: Tracker, parent_id: str,
                    metric: str) -> list[str]:
    """What Ax and MLflow say differently about the campaign's trials (empty: they agree).

    Every Ax trial has at most one MLflow run (none only for a trial abandoned before it
    started), in the matching state: COMPLETED <-> FINISHED with the same objective value,
    FAILED <-> FAILED, ABANDONED <-> KILLED, EARLY_STOPPED <-> FINISHED tagged early_stopped;
    and no run names a trial Ax does not have."""
    runs = _runs_by_trial(tracker, parent_id)
    values = search.values(metric)
    problems = []
    trials = _ours(search)
    for trial in trials:
        index, status = trial["trial_index"], trial["status"]
        rows = runs.get(index, [])
        if len(rows) > 1:
            problems.append(f"trial {index}: {len(rows)} MLflow runs")
            continue
        if status not in MLFLOW_STATUS:
            problems.append(f"trial {index}: {status} in Ax")
            continue
        if not rows:
            if status != "ABANDONED":
                problems.append(f"trial {index}: {status} in Ax, no MLflow run")
            continue
        run = rows[0]
        if run["status"] != MLFLOW_STATUS[status]:
            problems.append(f"trial {index}: {status} in Ax, {run['status']} in MLflow")
        elif status == "EARLY_STOPPED" and run["tags"].get(T.EARLY_STOPPED) != "ax":
            problems.append(f"trial {index}: EARLY_STOPPED in Ax, not tagged in MLflow")
        elif status == "COMPLETED":
            ours, theirs = values.get(index), run["metrics"].get(metric)
            if ours is None or theirs is None or not math.isclose(ours, theirs, rel_tol=1e-9,
                                                                  abs_tol=1e-12):
                problems.append(f"trial {index}: {metric} {ours} in Ax, {theirs} in MLflow")
    indices = {t["trial_index"] for t in trials}
    problems += [f"run {r['run_id']}: trial {index} is not in Ax" for index, rows in runs.items()
                 if index not in indices for r in rows]
    return problems
