"""Trials as Ray core tasks: the only module that imports Ray.

    executor = RayExecutor(workers=4, address="auto", gpus_per_trial=0.5, cpus_per_trial=2)

The campaign process is the Ray driver and stays the only writer to Ax and MLflow (Ax#695):
tasks train and return `TrialOutcome`s. The prepared arrays are put into Ray's object store
once and every task reads them from there (zero-copy on the same node). Running trials report
their epochs to a small actor (`_Channel`, 0 CPUs) that the campaign drains; Ax's
early-stopping verdict goes back through it.

- `address` None starts a local Ray on this machine for the campaign (and stops it at the end);
  "auto" or "ray://head:10001" joins a running cluster (`ray start --head` ...).
- Each task asks for `cpus_per_trial` CPUs and `gpus_per_trial` GPUs (fractions share a GPU;
  TensorFlow is told to grow its GPU memory instead of taking all of it). A task that uses a
  GPU runs in a fresh worker process (Ray's max_calls=1 for GPU tasks), so the GPU Ray assigned
  (CUDA_VISIBLE_DEVICES) is the one the backend binds to.
- Tasks are never retried by Ray (max_retries=0): a lost trial is failed and replaced by the
  campaign, never trained and counted twice. When the driver dies, Ray ends its tasks.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import ray

from ...data import PreparedData
from ...config import ExecutionConfig
from .protocol import Event, TrialOutcome, TrialSpec, verdict_key
from .worker import configure_process, run_remote

PACKAGE_DIR = Path(__file__).resolve().parents[2]  # sentiment_core/, shipped to the cluster
# Environment a worker needs before Keras is imported there.
_FORWARDED = ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")
_GPU_ENV = {"TF_FORCE_GPU_ALLOW_GROWTH": "true", "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}


@ray.remote(num_cpus=0)
class _Channel:
    """Epoch events from running trials to the campaign; verdicts back."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.verdicts: dict[int, tuple[int, bool]] = {}

    def report(self, event: Event) -> None:
        self.events.append(event)

    def drain(self) -> list[Event]:
        events, self.events = self.events, []
        return events

    def decide(self, index: int, epoch: int, stop: bool) -> None:
        self.verdicts[index] = (epoch, stop)

    def verdict(self, index: int, epoch: int) -> bool | None:
        decided = self.verdicts.get(index)
        if decided is None or decided[0] < epoch:
            return None
        return decided[1]


class _ActorChannel:
    """Worker side: fire-and-forget reports, polled verdicts."""

    def __init__(self, actor) -> None:
        self.actor = actor

    def report(self, event: Event) -> None:
        self.actor.report.remote(event)

    def verdict(self, index: int, epoch: int) -> bool | None:
        return ray.get(self.actor.verdict.remote(index, epoch))


def _trial(index: int, params: dict[str, Any], data: PreparedData, spec: TrialSpec,
           actor) -> TrialOutcome:
    """One trial in a Ray worker. `data` arrives from the object store (Ray resolves the
    reference; on the node that holds it, NumPy arrays are read in place, not copied)."""
    # Ray sets OMP_NUM_THREADS to the task's CPUs: TensorFlow's pools get the same number
    configure_process(spec.device, int(os.environ.get("OMP_NUM_THREADS", 0)) or None)
    return run_remote(index, params, data, spec, _ActorChannel(actor))


_cpu_trial = ray.remote(max_retries=0)(_trial)
# Fresh process per GPU trial: a backend binds to the GPUs visible when it is first imported.
_gpu_trial = ray.remote(max_retries=0, max_calls=1)(_trial)


def _token_auth_like_the_head() -> None:
    """Ray 2.60 heads started with `ray start` use token authentication when a token exists
    (~/.ray/auth_token, RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH); a driver joining them must
    send it, which it does only with RAY_AUTH_MODE=token."""
    if "RAY_AUTH_MODE" in os.environ:
        return
    token_file = Path(os.environ.get("RAY_AUTH_TOKEN_PATH", Path.home() / ".ray" / "auth_token"))
    if os.environ.get("RAY_AUTH_TOKEN") or token_file.exists():
        os.environ["RAY_AUTH_MODE"] = "token"
        try:  # Ray read its config when it was imported: make it read the mode again
            from ray._raylet import Config

            Config.initialize("")
        except Exception:  # noqa: BLE001 - a later Ray: export RAY_AUTH_MODE=token instead
            pass


class RayExecutor:
    name = "ray"

    @classmethod
    def from_config(cls, execution: ExecutionConfig) -> "RayExecutor":
        return cls(execution.workers, execution.ray_address, execution.gpus_per_trial,
                   execution.cpus_per_trial, execution.device)

    def tags(self) -> dict[str, Any]:
        return {"ray_address": self.address or "local", "gpus_per_trial": self.gpus,
                "cpus_per_trial": self.cpus}

    def __init__(self, workers: int, address: str | None = None, gpus_per_trial: float = 0.0,
                 cpus_per_trial: float = 1.0, device: str = "auto",
                 local_cpus: int | None = None) -> None:
        self.capacity = workers
        self.address = address
        self.gpus, self.cpus = gpus_per_trial, cpus_per_trial
        # a task that asked Ray for no GPU must not take one behind Ray's back
        self.device = "cpu" if device == "auto" and not gpus_per_trial else device
        self.local_cpus = local_cpus
        self.started_ray = False
        self.refs: dict[Any, int] = {}

    def start(self, data: PreparedData, spec: TrialSpec, cache_file: Path | None) -> None:
        env = {k: os.environ[k] for k in _FORWARDED if k in os.environ}
        if self.gpus:
            env.update(_GPU_ENV)
        runtime_env = {"env_vars": env, "py_modules": [str(PACKAGE_DIR)]}
        if not ray.is_initialized():
            options: dict[str, Any] = {"runtime_env": runtime_env, "log_to_driver": False,
                                       "include_dashboard": False}
            if self.address is None and self.local_cpus:
                options["num_cpus"] = self.local_cpus
            if self.address is not None:
                _token_auth_like_the_head()
            # None: a Ray of our own, never someone's `ray start` found on this machine
            ray.init(address=self.address or "local", **options)
            self.started_ray = True
            self.runtime_env = None  # the job's runtime env applies to every task
        else:  # a Ray the caller started (tests, notebooks): our env vars for the tasks; the
            # code must already be importable there (Ray ships local folders only at ray.init)
            self.runtime_env = {"env_vars": env}
        self.spec = TrialSpec(**{**spec.__dict__, "device": self.device})
        self.data_ref = ray.put(data)  # once; every task reads it from the object store
        channel = _Channel.options(runtime_env=self.runtime_env) if self.runtime_env \
            else _Channel
        self.actor = channel.remote()

    def submit(self, index: int, params: dict[str, Any]) -> None:
        function = _gpu_trial if self.gpus else _cpu_trial
        options: dict[str, Any] = {"num_cpus": self.cpus, "num_gpus": self.gpus}
        if self.runtime_env is not None:
            options["runtime_env"] = self.runtime_env
        ref = function.options(**options).remote(index, params, self.data_ref, self.spec,
                                                 self.actor)
        self.refs[ref] = index

    def _drain(self, on_event) -> None:
        for event in ray.get(self.actor.drain.remote()):
            verdict = on_event(event)
            self.actor.decide.remote(event.index, verdict_key(event), bool(verdict))

    def poll(self, timeout: float, on_event) -> list[TrialOutcome]:
        deadline = time.monotonic() + timeout
        ready: list[Any] = []
        while True:
            self._drain(on_event)
            if self.refs:
                ready, _ = ray.wait(list(self.refs), num_returns=len(self.refs), timeout=0.05)
            if ready or time.monotonic() >= deadline:
                break
            if not self.refs:
                time.sleep(0.05)
        if ready:
            self._drain(on_event)
        outcomes = []
        for ref in ready:
            index = self.refs.pop(ref)
            try:
                outcomes.append(ray.get(ref))
            except Exception as err:  # noqa: BLE001 - a lost worker, node or object
                outcomes.append(TrialOutcome(index, error=f"ray: {type(err).__name__}: "
                                                          f"{err}".splitlines()[0][:500]))
        return outcomes

    def cancel_all(self) -> None:
        for ref in list(self.refs):
            try:
                ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - already finished
                pass
        self.refs.clear()

    def close(self) -> None:
        self.cancel_all()
        try:
            ray.kill(self.actor)
        except Exception:  # noqa: BLE001
            pass
        if self.started_ray:
            ray.shutdown()
