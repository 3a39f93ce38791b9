"""The local executor: N spawned worker processes on this machine (no TensorFlow state is
forked). Each loads the prepared arrays once from the store's cache folder (memory-mapped) and
keeps them for every trial it runs; epochs stream back through a queue, Ax's early-stopping
verdicts go out through shared arrays."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import queue
import threading
import time
from pathlib import Path
from typing import Any

from ...config import ExecutionConfig
from ...data import PreparedData
from .protocol import Event, OnEvent, TrialOutcome, TrialSpec, verdict_key
from .worker import COUNTS, configure_process, run_remote

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
    from ...data import load_prepared

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

    @classmethod
    def from_config(cls, execution: ExecutionConfig) -> "LocalExecutor":
        return cls(execution.workers, execution.device, execution.cpus_per_trial)

    def tags(self) -> dict[str, Any]:
        return {}

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
            slot = event.index % _SLOTS
            self.stop[slot] = 1 if verdict else 0
            self.decided[slot] = verdict_key(event)
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
