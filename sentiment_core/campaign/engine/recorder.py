"""The recorder: the only writer of a campaign's two records, in the order `reconcile` relies on.

A finished trial is written MLflow first (metrics, figures and, for a new best, the model; the
run stays RUNNING), then Ax (told COMPLETED / FAILED / EARLY_STOPPED and saved), then the run
ends, then the parent's best and tables. A process that dies between any two steps is repaired
when the campaign resumes (`reconcile`). Figures and tables go through the background writer
(off the trial's path, never part of the records' agreement).
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import yaml

from ... import tags as T
from ...evaluation import TextClassifier, format_table, plots, predictions, table5
from ...trial import ObjectiveResult
from ..execution.protocol import Event, TrialOutcome
from ..execution.worker import rebuild_model
from .background import BackgroundWriter
from .faults import fault_point
from .noise import independent_values
from .provenance import trial_config
from .record import CampaignRecord, best_trial
from .scoring import validation_details


@dataclass
class Running:
    """A trial handed to the executor and not yet told to Ax."""

    index: int
    run_id: str
    params: dict[str, Any]  # tuned + fixed
    generation: str
    started: float
    unit_epochs: list[int] = field(default_factory=list)  # epochs of the finished units
    unit_values: list[float] = field(default_factory=list)  # the objective of each unit
    stop_epoch: int | None = None  # Ax's early-stopping verdict came after this epoch


class Recorder:
    def __init__(self, record: CampaignRecord, writer: BackgroundWriter, executor_name: str):
        self.record, self.writer, self.executor_name = record, writer, executor_name
        self.best: tuple[str, float, int] | None = None  # run id, value, trial index
        self.best_units = 0  # the incumbent's independent estimates (racing compares with it)
        self.completed = self.failed = self.early_stopped = 0
        self.raced = self.units_saved = 0
        self.running: dict[int, Running] = {}
        self.noise = record.noise
        self.noise.min_df = record.experiment.racing.min_df
        self.noise.maximize = record.direction == "maximize"

    @property
    def done(self) -> int:
        """Trials that count toward the budget: completed, or stopped early by Ax."""
        return self.completed + self.early_stopped

    def load(self) -> None:
        """The counts and best of a resumed campaign (after `reconcile`)."""
        metric, rows = self.record.metric, self.record.rows()
        best = best_trial(rows, metric, self.record.direction)
        if best is not None:
            self.best = (best["run_id"], best["metrics"][metric],
                         int(best["tags"][T.AX_TRIAL_INDEX]))
            self.best_units = int(best["metrics"].get("noise_n", 1))
        for row in rows:
            if T.trial_tags(row).campaign_trial and row["status"] == "FINISHED":
                self.noise.add_recorded(row["metrics"].get(metric, math.nan),
                                        row["metrics"].get(f"{metric}_noise_sd", math.nan),
                                        int(row["metrics"].get("noise_n", 0)))
            self.raced += T.RACED in row["tags"]
            self.units_saved += int(row["metrics"].get("units_saved", 0))
        if self.noise.ready:  # heals a process that died between the pool and the re-tell
            self._retell_completed(rows)
        ours = [t for t in self.record.search.trials() if t["generation"] != "attached"]
        self.completed = sum(t["status"] == "COMPLETED" for t in ours)
        self.failed = sum(t["status"] == "FAILED" for t in ours)
        self.early_stopped = sum(t["status"] == "EARLY_STOPPED" for t in ours)

    # ---- a trial starts, reports, ends ----------------------------------------------------

    def start(self, index: int, tuned: dict[str, Any]) -> Running:
        rec, exp = self.record, self.record.experiment
        params = {**tuned, **exp.space.fixed}
        generation = rec.search.generation_of(index)
        run_id = rec.tracker.start_trial(rec.parent_id, f"trial-{index}", params, {
            T.CAMPAIGN: rec.name, T.SOURCE: T.FROM_CAMPAIGN, T.AX_TRIAL_INDEX: index,
            T.ARM_NAME: f"{index}_0", T.GENERATION: generation, T.SEED: exp.seed,
            T.DATA_FINGERPRINT: rec.data.fingerprint, T.GIT_COMMIT: rec.commit,
            T.EXECUTOR: self.executor_name})
        self.writer.submit(rec.tracker.log_files, run_id, texts={"config.yaml": yaml.safe_dump(
            trial_config(exp, params, exp.seed, rec.data, rec.commit), sort_keys=False)})
        trial = Running(index, run_id, params, generation, time.perf_counter())
        self.running[index] = trial
        return trial

    def epoch(self, trial: Running, event: Event) -> None:
        """An epoch's logs, at step = epochs so far across the trial's units."""
        self.record.tracker.log_metrics(trial.run_id, event.logs,
                                        step=sum(trial.unit_epochs) + event.epoch)
        fault_point("epoch")

    def unit(self, trial: Running, event: Event) -> None:
        trial.unit_epochs.append(int(event.metrics.get("epochs_run", 0)))
        trial.unit_values.append(float(event.metrics.get(self.record.metric, math.nan)))
        if self.record.units > 1:  # per-fold / per-seed values, step = unit number
            self.record.tracker.log_metrics(trial.run_id, {
                f"unit_{k}": v for k, v in event.metrics.items()}, step=event.unit)

    def finish(self, outcome: TrialOutcome) -> str:
        """Record a finished trial; returns what it became: failed, early_stopped, completed.
        An exception before Ax is told leaves it in `running`, abandoned on the way out."""
        trial = self.running[outcome.index]
        rec, metric = self.record, self.record.metric
        if outcome.device:
            rec.tracker.set_tags(trial.run_id, outcome.device)
        result, error = outcome.result, outcome.error
        if error is None and not np.isfinite(result.mean[metric]):
            error = f"ValueError: {metric} is {result.mean[metric]}"
        if error is not None:
            rec.tracker.set_tags(trial.run_id, {T.ERROR: error})
            rec.search.fail(trial.index, error)
            self.running.pop(trial.index)
            rec.tracker.end_run(trial.run_id, "FAILED")
            self.failed += 1
            return "failed"
        if result.stopped:
            self._early_stopped(trial, result)
            return "early_stopped"
        progression = None
        if rec.search.early_stopping:  # the final value closes the per-epoch curve
            progression = int(result.units[0].metrics["epochs_run"])
        estimates = independent_values(result, metric, rec.experiment.objective.folds)
        was_ready = self.noise.ready
        self.noise.add(estimates)
        if self.noise.ready and not was_ready:
            self._retell_completed(rec.rows())
        told = rec.observation(result.mean[metric], len(estimates))
        sem = told[1] if isinstance(told, tuple) else None
        new_best = self._log_completed(trial, outcome, estimates, sem)
        fault_point("recorded")
        # Ax is told the mean with the pooled standard error, so its model treats trials as
        # noisy (see CampaignRecord.observation)
        rec.search.tell(trial.index, {metric: told}, progression)
        self.running.pop(trial.index)
        fault_point("told")
        rec.tracker.end_run(trial.run_id, "FINISHED")
        self.completed += 1
        fault_point("finished")
        self._log_campaign(new_best)
        return "completed"

    def _retell_completed(self, rows: list[dict[str, Any]]) -> None:
        """The pool just became ready: the trials told with the mean alone get the pooled
        standard error too, so Ax never holds a mix (its model cannot fit one)."""
        rec, metric = self.record, self.record.metric
        if rec.units < 2 or rec.search.early_stopping:
            return
        for row in rows:
            tags = T.trial_tags(row)
            if tags.campaign_trial and row["status"] == "FINISHED" and not tags.early_stopped \
                    and metric in row["metrics"]:
                rec.search.retell(tags.trial_index, {metric: rec.observation(
                    row["metrics"][metric], int(row["metrics"].get("noise_n", 1)))})

    def _early_stopped(self, trial: Running, result: ObjectiveResult) -> None:
        """Stopped by Ax: EARLY_STOPPED in Ax, tagged in MLflow (FINISHED, never the best)."""
        rec, unit = self.record, result.units[0]
        rec.tracker.log_metrics(trial.run_id, {**result.mean, **{
            f"time_{k}": v for k, v in result.timings.items()}},
            step=len(unit.history.get("loss", [])))
        rec.tracker.set_tags(trial.run_id, {
            T.EARLY_STOPPED: "ax", T.AX_STATUS: "EARLY_STOPPED",
            "stopped_after_epoch": int(unit.metrics["epochs_run"]),
            "planned_epochs": int(trial.params["num_epochs"])})
        rec.search.early_stop(trial.index)
        self.running.pop(trial.index)
        rec.tracker.end_run(trial.run_id, "FINISHED")
        self.early_stopped += 1

    def _log_completed(self, trial: Running, outcome: TrialOutcome, estimates: list[float],
                       sem: float | None) -> bool:
        """A completed trial's metrics, figures and (a new best) model, on its RUNNING run.
        True when it is the new best."""
        rec, result = self.record, outcome.result
        data, metric = rec.data, rec.metric
        pooled = rec.units > 1  # details of the pooled predictions, beside the means
        prefix = "pooled_val_" if pooled else "val_"
        details = validation_details(result.val_true, result.val_proba, data.class_names,
                                     prefix)
        spread = {}  # one run per trial has no spread (Table 5 then has no ± sd)
        if pooled:
            spread = {f"{metric}_sd": result.sd(metric) if len(result.units) > 1 else math.nan,
                      "noise_n": len(estimates),
                      f"{metric}_noise_sd": (statistics.stdev(estimates) if len(estimates) > 1
                                             else math.nan)}
            if sem is not None:  # the pooled standard error: what Ax was told
                spread[f"{metric}_sem"] = sem
        if result.raced:
            saved = result.planned_units - len(result.units)
            spread["units_saved"] = saved
            self.raced += 1
            self.units_saved += saved
            rec.tracker.set_tags(trial.run_id, {
                T.RACED: f"after unit {len(result.units)} of {result.planned_units}"})
        rec.tracker.log_metrics(trial.run_id, {
            **details, **result.mean, **{k: v for k, v in spread.items()
                                         if math.isfinite(v)},
            **{f"time_{k}": v for k, v in result.timings.items()},
            "time_prepare_s": data.prepare_seconds, "time_trial_s": outcome.seconds},
            step=sum(len(u.history.get("loss", [])) for u in result.units))
        rec.tracker.set_tags(trial.run_id, {T.UNITS: ", ".join(result.unit_names)})
        self.writer.submit(self._log_figures, trial.run_id, trial.index, result)
        value = result.mean[metric]
        if self.best is not None and not rec.better(value, self.best[1]):
            return False
        # the model of each new best is logged before its run finishes: the best has one
        model = result.model if result.model is not None else rebuild_model(
            outcome, trial.params, rec.experiment.model.family, data)
        classifier = TextClassifier(model, data.vocabulary, rec.experiment.cleaning,
                                    data.sequence_length, data.class_names,
                                    details.get(prefix + "opt_threshold", 0.5))
        rec.tracker.log_classifier(trial.run_id, classifier)
        self.best = (trial.run_id, value, trial.index)
        self.best_units = len(estimates) if pooled else 1
        return True

    def _log_campaign(self, new_best: bool) -> None:
        """The parent run: its best (once the best's run has finished), progress and tables."""
        rec, metric = self.record, self.record.metric
        if new_best:
            run_id, value, index = self.best
            rec.tracker.set_tags(rec.parent_id, {T.BEST_RUN_ID: run_id,
                                                 T.BEST_TRIAL_INDEX: index,
                                                 f"best_{metric}": value})
        rec.tracker.log_metrics(rec.parent_id, {f"best_{metric}": self.best[1],
                                                "completed_trials": self.completed,
                                                "raced_trials": self.raced,
                                                "units_saved_by_racing": self.units_saved},
                                step=self.completed)
        if self.noise.ready:
            rec.tracker.set_tags(rec.parent_id, self.noise.describe())
        self.writer.submit(self.log_table)

    def abandon_running(self, err: BaseException) -> None:
        """The campaign is ending with trials in flight (Ctrl-C, a stop, an error): they are
        abandoned in Ax and KILLED in MLflow."""
        rec = self.record
        reason = ("interrupted by the user" if isinstance(err, KeyboardInterrupt)
                  else f"campaign ended: {type(err).__name__}: {err}"[:500])
        lost = rec.tracker.unreachable(err)  # then MLflow is left to the resume
        for trial in list(self.running.values()):
            try:
                rec.search.abandon(trial.index)
                if not lost:
                    rec.tracker.set_tags(trial.run_id, {T.ERROR: reason})
                    rec.tracker.end_run(trial.run_id, "KILLED")
            except Exception as failure:  # noqa: BLE001 - the resume closes what is left
                lost = lost or rec.tracker.unreachable(failure)
        self.running.clear()

    # ---- background writes (not part of the records' agreement) -----------------------

    def _log_figures(self, run_id: str, index: int, result: ObjectiveResult) -> None:
        where = "out-of-fold" if self.record.experiment.objective.folds > 1 else "validation"
        names = self.record.data.class_names
        figures = {
            "learning_curves.png": plots.learning_curves(result.units[0].history,
                                                         f"trial {index}, {result.unit_names[0]}"),
            "confusion_matrix.png": plots.confusion_matrix(
                result.val_true, predictions(result.val_proba), names, f"trial {index}, {where}"),
            "roc.png": plots.roc(result.val_true, result.val_proba, names,
                                 f"trial {index}, {where}")}
        try:
            self.record.tracker.log_files(run_id, figures=figures)
        finally:
            for figure in figures.values():
                plots.close(figure)

    def table(self, rows: list[dict[str, Any]]):
        rec = self.record
        best = best_trial(rows, rec.metric, rec.direction)
        return table5(rows, list(rec.experiment.space.parameters), rec.metric,
                      best["run_id"] if best else None)

    def log_table(self) -> None:
        rec = self.record
        table = self.table(rec.rows())
        rec.tracker.log_files(rec.parent_id, texts={
            "table5.md": format_table(table, "markdown"), "table5.csv": format_table(table, "csv"),
            "table5.txt": format_table(table)})
