"""The worker side of a trial: what runs in a worker process (local pool or Ray task).

    configure_process(device="cpu", threads=1)      # before Keras is imported
    outcome = run_remote(index, params, data, spec, channel)    # a picklable TrialOutcome

Workers never talk to Ax or MLflow (one writer: the campaign process). A worker trains with
`run_objective`, streams its epochs through a `channel` (a queue in the campaign process, or a
Ray actor), waits there for Ax's early-stopping verdict when asked to, and returns metrics,
histories, validation predictions and the model's weights (plain NumPy arrays: any Keras
backend can send them, and the campaign rebuilds the model only for a new best).

Nothing here imports Ax, MLflow, Ray or a Keras backend at module level.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ..data import PreparedData
from ..models import build_model
from ..trial import ObjectiveResult, TrialFailed, average_models, run_objective


@dataclass(frozen=True)
class TrialSpec:
    """What every trial of a campaign shares (shipped once with the executor)."""

    seed: int
    family: str
    folds: int = 1
    replicates: int = 1
    epoch_metrics: bool = False  # score validation each epoch (early stopping across trials)
    await_verdict: bool = False  # wait after each epoch for Ax's stop / go
    verdict_timeout_s: float = 60.0  # then go on training (the campaign process is busy)
    device: str = "auto"


@dataclass
class Event:
    """A message from a running trial to the campaign process."""

    kind: str  # "epoch" or "unit"
    index: int  # Ax trial index
    unit: int  # 1-based unit (fold x replicate) number
    epoch: int = 0
    epochs: int = 0
    logs: dict[str, float] = field(default_factory=dict)
    name: str = ""  # unit name ("fold 2", "seed 8")
    metrics: dict[str, float] = field(default_factory=dict)  # the unit's final metrics


@dataclass
class TrialOutcome:
    """What comes back from a worker: the result without Keras objects, or an error."""

    index: int
    result: ObjectiveResult | None = None  # models stripped (model=None)
    weights: list[list[Any]] | None = None  # per unit, model.get_weights()
    error: str | None = None
    device: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


class Channel(Protocol):
    def report(self, event: Event) -> None: ...

    def verdict(self, index: int, epoch: int) -> bool | None:
        """True: stop; False: go on; None: not decided yet."""


COUNTS = {"data_loads": 0, "trials": 0}  # in this process: shown with each trial's device


class NoChannel:
    def report(self, event: Event) -> None:
        pass

    def verdict(self, index: int, epoch: int) -> bool | None:
        return False


# ---- process setup -------------------------------------------------------------------------


def configure_process(device: str = "auto", threads: int | None = None) -> None:
    """Environment for a worker process, set before Keras (and its backend) is imported:
    `cpu` hides every GPU; `threads` caps the math libraries' threads, so that N workers on
    N cores do not each spawn N threads. KERAS_BACKEND is read from the environment."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
    if threads:
        for name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "MKL_NUM_THREADS"):
            os.environ[name] = str(int(threads))
        os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")


def device_info() -> dict[str, Any]:
    """The Keras backend, the device trials run on, and the peak GPU memory when there is one.
    Imports only the backend Keras uses."""
    import keras

    backend = keras.backend.backend()
    info: dict[str, Any] = {"keras_backend": backend, "host": platform.node(),
                            "worker_pid": os.getpid(), "device": "cpu"}
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                details = tf.config.experimental.get_device_details(gpus[0])
                info["device"] = f"GPU:0 {details.get('device_name', '')}".strip()
                info["gpu_count"] = len(gpus)
                memory = tf.config.experimental.get_memory_info("GPU:0")
                info["gpu_memory_peak_mb"] = round(memory["peak"] / 2**20, 1)
        elif backend == "torch":
            import torch

            if torch.cuda.is_available():
                info["device"] = f"cuda:0 {torch.cuda.get_device_name(0)}"
                info["gpu_count"] = torch.cuda.device_count()
                info["gpu_memory_peak_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        elif backend == "jax":
            import jax

            device = jax.devices()[0]
            if device.platform == "gpu":
                info["device"] = f"{device.platform}:{device.id} {device.device_kind}"
                info["gpu_count"] = len(jax.devices())
                stats = device.memory_stats() or {}
                if "peak_bytes_in_use" in stats:
                    info["gpu_memory_peak_mb"] = round(stats["peak_bytes_in_use"] / 2**20, 1)
    except Exception as err:  # noqa: BLE001 - a report, never a reason to fail the trial
        info["device_error"] = f"{type(err).__name__}: {err}"[:200]
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        info["cuda_visible_devices"] = visible
    return info


def reset_gpu_peak() -> None:
    """Start each trial's peak-memory count afresh (a pooled worker runs many trials)."""
    try:
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            if tf.config.list_physical_devices("GPU"):
                tf.config.experimental.reset_memory_stats("GPU:0")
        elif keras.backend.backend() == "torch":
            import torch

            if torch.cuda.is_available():
                torch.cuda.reset_peak_memory_stats()
    except Exception:  # noqa: BLE001
        pass


def require_device(device: str, info: dict[str, Any]) -> None:
    if device == "gpu" and not info.get("gpu_count"):
        raise TrialFailed(f"device gpu asked for, but the {info['keras_backend']} backend sees "
                          f"no GPU on {info['host']}")


def cudnn_note(params: dict[str, Any], info: dict[str, Any]) -> str:
    """Whether Keras can run this LSTM on cuDNN here (Keras 3.15's rules): a GPU, tanh/sigmoid,
    no recurrent_dropout, no unroll, a bias, and for masked input (our families mask padding)
    only the TensorFlow backend, with right-padded masks."""
    if not info.get("gpu_count"):
        return "no GPU"
    if float(params.get("recurrent_dropout", 0) or 0) > 0:
        return "generic kernel: recurrent_dropout > 0"
    if info["keras_backend"] != "tensorflow":
        return f"generic kernel: {info['keras_backend']} has no cuDNN path for masked input"
    return "cuDNN eligible"


# ---- one trial -----------------------------------------------------------------------------


def run_remote(index: int, params: dict[str, Any], data: PreparedData, spec: TrialSpec,
               channel: Channel | None = None) -> TrialOutcome:
    """Train one trial in this process, streaming epochs through `channel`."""
    channel = channel or NoChannel()
    start = time.perf_counter()
    COUNTS["trials"] += 1
    unit_number = [1]

    def on_epoch(epoch: int, epochs: int, logs: dict[str, float]) -> bool:
        channel.report(Event("epoch", index, unit_number[0], epoch, epochs, dict(logs)))
        if not spec.await_verdict or unit_number[0] > 1 or epoch >= epochs:
            return False
        deadline = time.monotonic() + spec.verdict_timeout_s
        while time.monotonic() < deadline:
            verdict = channel.verdict(index, epoch)
            if verdict is not None:
                return verdict
            time.sleep(0.01)
        return False

    def on_unit(number: int, name: str, unit) -> None:
        channel.report(Event("unit", index, number, name=name, metrics=dict(unit.metrics)))
        unit_number[0] = number + 1

    try:
        reset_gpu_peak()
        info = device_info()
        require_device(spec.device, info)
        result = run_objective(params, data, spec.seed, spec.family, spec.folds,
                               spec.replicates, on_epoch, on_unit,
                               epoch_metrics=spec.epoch_metrics)
    except Exception as err:  # noqa: BLE001 - the campaign records it as a failed trial
        return TrialOutcome(index, error=f"{type(err).__name__}: {err}".splitlines()[0][:500],
                            seconds=time.perf_counter() - start)
    info = {**device_info(), "lstm_kernel": cudnn_note(params, info),
            "worker_trials": COUNTS["trials"], "worker_data_loads": COUNTS["data_loads"]}
    weights = [u.model.get_weights() for u in result.units]
    light = replace(result, model=None, units=[replace(u, model=None) for u in result.units])
    return TrialOutcome(index, light, [[_numpy(w) for w in ws] for ws in weights], None, info,
                        time.perf_counter() - start)


def _numpy(array):
    import numpy as np

    return np.asarray(array)


def rebuild_model(outcome: TrialOutcome, params: dict[str, Any], family: str,
                  data: PreparedData):
    """The trial's Keras model, from the weights a worker sent (the units averaged as
    `run_objective` does)."""
    models = []
    for weights in outcome.weights or []:
        model = build_model(family, params, len(data.vocabulary), data.sequence_length,
                            len(data.class_names), vocabulary=data.vocabulary,
                            train_ids=data.x_train, train_labels=data.y_train)
        model.set_weights(weights)
        model.optimizer.build(model.trainable_variables)  # saved like a trained model
        models.append(model)
    return average_models(models) if models else None
