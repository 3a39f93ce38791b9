"""Where trials run. The campaign submits trials to an executor and collects their outcomes.

    executor = make_executor(experiment.execution)          # inline | local | ray
    executor.start(data, spec, cache_file)                  # ships the prepared arrays once
    executor.submit(index, params)                          # up to executor.capacity at once
    for outcome in executor.poll(timeout, on_event): ...    # events stream while trials run

- `InlineExecutor`: one trial at a time in the campaign process (today's behaviour; on 2 cores
  one TensorFlow training uses both).
- `LocalExecutor`: N worker processes on this machine (spawned, so no TensorFlow state is
  forked); each loads the prepared arrays once from the store's cache folder (memory-mapped).
- `RayExecutor` (`ray_executor.py`, the only Ray importer): Ray core tasks on a local Ray or a
  cluster, each asking for `gpus_per_trial` / `cpus_per_trial`; the arrays go into Ray's object
  store once.

Every executor returns `TrialOutcome`s and calls `on_event(event)` for each epoch / unit a
running trial reports; `on_event` returning True for an epoch is Ax's verdict "stop this trial"
and reaches the worker before its next epoch. Only the campaign process talks to Ax and MLflow.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ..config import ExecutionConfig, ObjectiveConfig
from ..data import PreparedData
from ..trial import EpochCallback, ObjectiveResult, TrialResult, run_objective
from .worker import Event, TrialOutcome, TrialSpec, configure_process, cudnn_note, \
    device_info, require_device, reset_gpu_peak, run_remote

OnEvent = Callable[[Event], "bool | None"]


class Executor(Protocol):
    capacity: int  # trials at once
    name: str

    def start(self, data: PreparedData, spec: TrialSpec, cache_file: Path | None) -> None: ...

    def submit(self, index: int, params: dict[str, Any]) -> None: ...

    def poll(self, timeout: float, on_event: OnEvent) -> list[TrialOutcome]:
        """Outcomes of trials that ended (possibly none after `timeout` seconds)."""

    def cancel_all(self) -> None:
        """Stop every running trial (the campaign is ending); their outcomes are dropped."""

    def close(self) -> None: ...


def make_executor(execution: ExecutionConfig) -> Executor:
    if execution.executor == "inline":
        return InlineExecutor()
    if execution.executor == "local":
        return LocalExecutor(execution.workers, execution.device, execution.cpus_per_trial)
    from .ray_executor import RayExecutor  # imports Ray: only campaigns that use it pay

    return RayExecutor(execution.workers, execution.ray_address, execution.gpus_per_trial,
                       execution.cpus_per_trial, execution.device)


# ---- inline ----------------------------------------------------------------------------------


class InlineExecutor:
    """One trial at a time, in this process. `run` is the whole trial (tests override it)."""

    capacity = 1
    name = "inline"

    def __init__(self) -> None:
        self.queue: list[tuple[int, dict[str, Any]]] = []
        self.data: PreparedData | None = None
        self.spec: TrialSpec | None = None

    def run(self, params, data, seed, family, objective: ObjectiveConfig, on_epoch=None,
            on_unit=None, epoch_metrics: bool = False) -> ObjectiveResult:
        return run_objective(params, data, seed, family, objective.folds, objective.replicates,
                             on_epoch, on_unit, epoch_metrics=epoch_metrics)

    def start(self, data: PreparedData, spec: TrialSpec, cache_file: Path | None = None) -> None:
        self.data, self.spec = data, spec

    def submit(self, index: int, params: dict[str, Any]) -> None:
        self.queue.append((index, params))

    def poll(self, timeout: float, on_event: OnEvent) -> list[TrialOutcome]:
        if not self.queue:
            return []
        index, params = self.queue.pop(0)
        spec, unit = self.spec, [1]

        def on_epoch(epoch: int, epochs: int, logs: dict[str, float]) -> bool:
            return bool(on_event(Event("epoch", index, unit[0], epoch, epochs, dict(logs))))

        def on_unit(number: int, name: str, result: TrialResult) -> None:
            on_event(Event("unit", index, number, name=name, metrics=dict(result.metrics)))
            unit[0] = number + 1

        start = time.perf_counter()
        try:
            reset_gpu_peak()
            info = device_info()
            require_device(spec.device, info)
            objective = ObjectiveConfig(folds=spec.folds, replicates=spec.replicates)
            result = self.run(params, self.data, spec.seed, spec.family, objective, on_epoch,
                              on_unit, spec.epoch_metrics)
        except Exception as err:  # noqa: BLE001 - recorded as a failed trial
            return [TrialOutcome(index, error=f"{type(err).__name__}: {err}".splitlines()[0]
                                 [:500], seconds=time.perf_counter() - start)]
        info = {**device_info(), "lstm_kernel": cudnn_note(params, info)}
        return [TrialOutcome(index, result, None, None, info, time.perf_counter() - start)]

    def cancel_all(self) -> None:
        self.queue.clear()

    def close(self) -> None:
        pass


# ---- local processes -------------------------------------------------------------------------

_SLOTS = 4096  # verdict slots: trial index modulo this (far more than trials running at once)
_worker: dict[str, Any] = {}  # in a worker process: its data, spec and channel


class _QueueChannel:
    """Worker side of the local channel: events into a queue, verdicts from shared arrays
    (decided[slot] = last epoch the campaign judged, stop[slot] = its verdict)."""

    def __init__(self, events, decided, stop):
        self.events, self.decided, self.stop = events, decided, stop

    def report(self, event: Event) -> None:
        self.events.put(event)

    def verdict(self, index: int, epoch: int) -> bool | None:
        slot = index % _SLOTS
        if self.decided[slot] < epoch:
            return None
        return bool(self.stop[slot])


def _watch_parent(parent: int) -> None:
    """A worker whose campaign process died (SIGKILL) stops too, instead of training on."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _init_worker(cache_file: str, spec: TrialSpec, threads: int | None, events, decided,
                 stop, parent: int) -> None:
    configure_process(spec.device, threads)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    from ..data import load_prepared
    from .worker import COUNTS

    _worker["data"] = load_prepared(Path(cache_file))
    COUNTS["data_loads"] += 1
    _worker["spec"] = spec
    _worker["channel"] = _QueueChannel(events, decided, stop)


def _local_trial(index: int, params: dict[str, Any]) -> TrialOutcome:
    return run_remote(index, params, _worker["data"], _worker["spec"], _worker["channel"])


class LocalExecutor:
    """`workers` processes on this machine (spawned). Each loads the prepared arrays once, from
    the store's cache folder (memory-mapped), and keeps them for every trial it runs."""

    name = "local"

    def __init__(self, workers: int, device: str = "auto", cpus_per_trial: float = 1.0):
        self.capacity = workers
        self.device = device
        self.threads = max(1, int(cpus_per_trial))
        self.pool: cf.ProcessPoolExecutor | None = None
        self.futures: dict[cf.Future, int] = {}

    def start(self, data: PreparedData, spec: TrialSpec, cache_file: Path | None) -> None:
        if cache_file is None or not Path(cache_file).exists():
            raise RuntimeError("the local executor needs the prepared arrays in the store's "
                               "cache (prepare with a cache folder)")
        ctx = mp.get_context("spawn")
        self.events = ctx.Queue()
        self.decided = ctx.Array("i", _SLOTS, lock=False)
        self.stop = ctx.Array("b", _SLOTS, lock=False)
        self.spec, self.cache_file = spec, str(cache_file)
        self._ctx = ctx
        self._new_pool()

    def _new_pool(self) -> None:
        self.pool = cf.ProcessPoolExecutor(
            max_workers=self.capacity, mp_context=self._ctx, initializer=_init_worker,
            initargs=(self.cache_file, self.spec, self.threads, self.events, self.decided,
                      self.stop, os.getpid()))

    def submit(self, index: int, params: dict[str, Any]) -> None:
        slot = index % _SLOTS
        self.stop[slot], self.decided[slot] = 0, 0
        try:
            future = self.pool.submit(_local_trial, index, params)
        except cf.process.BrokenProcessPool:  # a worker died (out of memory?): start afresh
            self.pool.shutdown(wait=False, cancel_futures=True)
            self._new_pool()
            future = self.pool.submit(_local_trial, index, params)
        self.futures[future] = index

    def _drain(self, on_event: OnEvent, wait: float) -> None:
        try:
            event = self.events.get(timeout=wait) if wait > 0 else self.events.get_nowait()
        except queue.Empty:
            return
        while True:
            verdict = on_event(event)
            if event.kind == "epoch":
                slot = event.index % _SLOTS
                self.stop[slot] = 1 if verdict else 0
                self.decided[slot] = event.epoch
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                return

    def poll(self, timeout: float, on_event: OnEvent) -> list[TrialOutcome]:
        deadline = time.monotonic() + timeout
        while True:
            self._drain(on_event, wait=0.05)
            done = [f for f in self.futures if f.done()]
            if done or time.monotonic() >= deadline:
                break
        if done:
            self._drain(on_event, wait=0)  # the last epochs of the finished trials first
        outcomes = []
        for future in done:
            index = self.futures.pop(future)
            try:
                outcomes.append(future.result())
            except Exception as err:  # noqa: BLE001 - the worker process died
                outcomes.append(TrialOutcome(index, error=f"worker died: {type(err).__name__}:"
                                                          f" {err}"[:500]))
        return outcomes

    def cancel_all(self) -> None:
        for future in self.futures:
            future.cancel()
        self.futures.clear()
        if self.pool is not None:
            # a running trial cannot be cancelled: end its process
            for process in list(getattr(self.pool, "_processes", {}).values()):
                process.kill()
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


__all__ = ["EpochCallback", "Event", "Executor", "InlineExecutor", "LocalExecutor",
           "TrialOutcome", "TrialSpec", "make_executor"]
