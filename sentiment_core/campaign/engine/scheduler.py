"""The scheduler: ask Ax for as many trials as the executor has free workers, submit them, pass
what running trials report to the recorder (and Ax's early-stopping verdicts back), and hand
each finished trial to the recorder.

    Scheduler(record, executor, recorder).run()

Ax may give fewer trials than asked (end of the Sobol budget, waiting for data): the loop then
waits for running trials to report. With `optimizer.prefetch` and one trial at a time, Ax
generates the next candidate in a thread while the current trial trains.
"""

from __future__ import annotations

import concurrent.futures as cf
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..execution.protocol import Event, Executor, TrialSpec
from .interrupts import raise_if_requested
from .record import CampaignRecord
from .recorder import Recorder


class CampaignStopped(RuntimeError):
    """Too many trials failed: the campaign stops instead of burning its budget."""


def params_identity(params: dict[str, Any]) -> tuple:
    return tuple(sorted((k, round(v, 10) if isinstance(v, float) else v)
                        for k, v in params.items()))


class Scheduler:
    def __init__(self, record: CampaignRecord, executor: Executor, recorder: Recorder,
                 cache_file: Path | None = None, poll_s: float = 1.0):
        self.record, self.executor, self.recorder = record, executor, recorder
        self.cache_file, self.poll_s = cache_file, poll_s
        self.search = record.search
        self.durations: list[float] = []
        self.seen: set[tuple] = set()
        self.prefetching: cf.Future | None = None  # Ax generating the next trial meanwhile
        self.prefetched: dict[int, dict[str, Any]] = {}
        self._asker: cf.ThreadPoolExecutor | None = None
        self.tracking_lost: Exception | None = None  # the MLflow server stopped answering

    def spec(self) -> TrialSpec:
        exp = self.record.experiment
        es, objective = exp.early_stopping, exp.objective
        return TrialSpec(exp.seed, exp.model.family, objective.folds, objective.replicates,
                         epoch_metrics=es.enabled, await_verdict=es.enabled,
                         device=exp.execution.device, race=exp.racing.enabled)

    def run(self) -> None:
        rec, recorder = self.record, self.recorder
        self.seen = {params_identity(t["params"]) for t in self.search.trials()}
        if recorder.done:
            rec.progress(f"resuming {rec.name}: {recorder.completed} completed, "
                         f"{recorder.failed} failed, {rec.trials - recorder.done} to go")
        budget = rec.experiment.budget
        tolerated = budget.max_failure_rate * rec.trials
        try:
            self.executor.start(rec.data, self.spec(), self.cache_file)
            while recorder.done < rec.trials or recorder.running:
                if recorder.failed > tolerated:
                    raise CampaignStopped(f"{recorder.failed} trials failed (tolerated: "
                                          f"{budget.max_failure_rate:.0%} of {rec.trials})")
                self._fill()
                if not recorder.running:
                    if recorder.done >= rec.trials:
                        break
                    raise CampaignStopped("Ax proposed no further trial")
                self._prefetch()
                outcomes = self.executor.poll(self.poll_s, self._on_event)
                raise_if_requested()
                self._await_prefetch()  # Ax is used by one thread at a time
                for outcome in outcomes:
                    self._finish(outcome)
            self._abandon_prefetched()
        except BaseException as err:
            self.executor.cancel_all()
            try:
                self._abandon_prefetched()
            except Exception:  # noqa: BLE001 - the next run's resume abandons it
                pass
            recorder.abandon_running(err)
            raise
        finally:
            self.executor.close()
            if self._asker is not None:  # the prefetch thread, idle by now
                self._asker.shutdown(wait=False)

    # ---- asking ------------------------------------------------------------------------

    def _free_slots(self) -> int:
        running = len(self.recorder.running)
        count = min(self.executor.capacity - running,
                    self.record.trials - self.recorder.done - running)
        cap = self.record.experiment.optimizer.bayesian_concurrency
        if cap and count > 0 and self.search.phase() == "BoTorch":
            count = min(count, cap - running)
        return count

    def _fill(self) -> None:
        """Ask Ax for a trial per free worker; never train a parameterization twice."""
        duplicates = 0
        while (count := self._free_slots()) > 0:
            asked, self.prefetched = self.prefetched or self.search.ask(count), {}
            if not asked:
                return
            for index, params in asked.items():
                if params_identity(params) in self.seen:
                    self.search.abandon(index)
                    self.record.progress(f"trial {index}: duplicate parameters, abandoned "
                                         "and asked again")
                    duplicates += 1
                    if duplicates > 20:
                        raise CampaignStopped("Ax keeps proposing trained parameters")
                    continue
                self.seen.add(params_identity(params))
                self._start(index, params)

    def _start(self, index: int, tuned: dict[str, Any]) -> None:
        trial = self.recorder.start(index, tuned)
        shown = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in tuned.items())
        self.record.progress(f"{self._counts()} trial {index} ({trial.generation}) started: "
                             f"{shown}")
        self.executor.submit(index, trial.params)

    def _prefetch(self) -> None:
        """One trial at a time: ask Ax for the next candidate in a thread while this trial
        trains (the running trial is pending in Ax's model, as with a second worker)."""
        optimizer = self.record.experiment.optimizer
        if (not optimizer.prefetch or self.executor.capacity != 1
                or self.search.early_stopping or self.prefetching or self.prefetched
                or self.recorder.done + len(self.recorder.running) >= self.record.trials
                or (optimizer.bayesian_concurrency == 1 and self.search.phase() == "BoTorch")):
            return
        if self._asker is None:
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

    # ---- what running trials report ----------------------------------------------------

    def _on_event(self, event: Event) -> bool:
        """Log it; for an epoch, return Ax's verdict (True: stop this trial)."""
        raise_if_requested()
        trial = self.recorder.running.get(event.index)
        if trial is None:  # a trial this campaign already gave up on
            return True
        if event.kind == "unit":
            self.recorder.unit(trial, event)
            return self._race(trial, event)
        try:
            self.recorder.epoch(trial, event)
        except Exception as err:
            if not self.record.tracker.unreachable(err):
                raise
            self.tracking_lost = err  # not the trial's fault: stop it, _finish raises this
            return True
        self.record.progress(self._epoch_line(event))
        return self._verdict(trial, event)

    def _epoch_line(self, event: Event) -> str:
        """The epoch's training loss, the monitored validation metric, and the objective."""
        rec, logs = self.record, event.logs
        units = rec.units
        unit = f" unit {event.unit}/{units}" if units > 1 else ""
        shown = {"loss": logs.get("loss")}
        monitor = rec.experiment.space.fixed.get("early_stopping_monitor") or "val_loss"
        for key in dict.fromkeys([monitor, rec.metric]):
            if key in logs:
                shown[key] = logs[key]
        values = "  ".join(f"{k} {v:.4f}" for k, v in shown.items() if v is not None)
        return f"  trial {event.index}{unit} epoch {event.epoch}/{event.epochs}  {values}"

    def _verdict(self, trial, event: Event) -> bool:
        metric, logs = self.record.metric, event.logs
        if not self.search.early_stopping or event.unit > 1:
            return False
        if not np.isfinite(logs.get(metric, np.nan)):  # e.g. ROC AUC with one class present
            return False
        self.search.report(event.index, metric, logs[metric], event.epoch)
        if event.epoch >= event.epochs or not self.search.should_stop(event.index):
            return False
        trial.stop_epoch = event.epoch
        self.record.progress(f"  trial {event.index}: Ax stops it after epoch {event.epoch} "
                             f"({metric} {logs[metric]:.4f} is behind the other trials' "
                             "curves)")
        return True

    def _race(self, trial, event: Event) -> bool:
        """Racing: after a unit, stop a trial that is clearly behind the incumbent (a one-sided
        test with the campaign's pooled noise; see noise.PooledNoise.clearly_behind)."""
        rec, recorder = self.record, self.recorder
        racing = rec.experiment.racing
        if not racing.enabled or recorder.best is None or event.unit >= rec.units:
            return False
        values = [v for v in trial.unit_values if np.isfinite(v)]
        if not values:
            return False
        mean, best = float(np.mean(values)), recorder.best[1]
        if not recorder.noise.clearly_behind(mean, len(values), best, recorder.best_units,
                                             racing.z, rec.direction == "maximize"):
            return False
        rec.progress(f"  trial {event.index}: raced out after unit {event.unit}/{rec.units} "
                     f"({rec.metric} {mean:.4f} over {len(values)} vs the incumbent's "
                     f"{best:.4f}; pooled sd {recorder.noise.sd:.4f})")
        return True

    # ---- what finished trials return ---------------------------------------------------

    def _finish(self, outcome) -> None:
        trial = self.recorder.running.get(outcome.index)
        if trial is None:
            return
        if self.tracking_lost is not None:
            raise self.tracking_lost
        self.durations.append(time.perf_counter() - trial.started)
        became = self.recorder.finish(outcome)
        if became == "failed":
            self.record.progress(f"trial {outcome.index} FAILED: {outcome.error or 'NaN'}")
        elif became == "early_stopped":
            unit = outcome.result.units[0]
            self.record.progress(f"trial {outcome.index} EARLY_STOPPED by Ax after "
                                 f"{int(unit.metrics['epochs_run'])} of "
                                 f"{trial.params['num_epochs']} epochs")
        self._report()

    def _counts(self) -> str:
        r = self.recorder
        stopped = f", {r.early_stopped} early-stopped" if r.early_stopped else ""
        stopped += f", {r.raced} raced out" if r.raced else ""
        return (f"[{r.done}/{self.record.trials} completed, {r.failed} failed{stopped}, "
                f"{len(r.running)} running]")

    def _report(self) -> None:
        rec, best = self.record, self.recorder.best
        remaining = rec.trials - self.recorder.done
        eta = remaining * (sum(self.durations) / len(self.durations)) / self.executor.capacity
        shown = (f"best {rec.metric} {best[1]:.4f} (trial {best[2]})" if best
                 else "no best yet")
        rec.progress(f"{self._counts()} {shown}; ETA {eta / 60:.1f} min")
