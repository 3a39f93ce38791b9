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
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ...data import PreparedData
from ...models import build_model, train_feature_stats
from ...trial import TrialFailed, average_models, run_objective
from .protocol import Channel, Event, NoChannel, TrialOutcome, TrialSpec, verdict_key

COUNTS = {"data_loads": 0, "trials": 0}  # in this process: shown with each trial's device


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
               channel: Channel | None = None, train: Callable[..., Any] = run_objective,
               keep_model: bool = False) -> TrialOutcome:
    """Train one trial in this process, streaming epochs through `channel`. `train` is
    `run_objective` (tests wrap it); `keep_model` keeps the Keras models in the result (the
    inline executor: same process) instead of sending their weights."""
    channel = channel or NoChannel()
    start = time.perf_counter()
    COUNTS["trials"] += 1
    unit_number = [1]

    def verdict(event: Event, wanted: bool) -> bool:
        """The campaign's answer to `event`: at once from a channel in this process, else
        polled for up to `verdict_timeout_s` when `wanted` (then: go on)."""
        answer = channel.report(event)
        if answer is not None:
            return bool(answer)
        deadline = time.monotonic() + spec.verdict_timeout_s
        while wanted and time.monotonic() < deadline:
            answer = channel.verdict(index, verdict_key(event))
            if answer is not None:
                return answer
            time.sleep(0.01)
        return False

    def on_epoch(epoch: int, epochs: int, logs: dict[str, float]) -> bool:
        return verdict(Event("epoch", index, unit_number[0], epoch, epochs, dict(logs)),
                       spec.await_verdict and unit_number[0] == 1 and epoch < epochs)

    def on_unit(number: int, name: str, unit) -> bool:
        unit_number[0] = number + 1
        return verdict(Event("unit", index, number, name=name, metrics=dict(unit.metrics)),
                       spec.race)

    try:
        reset_gpu_peak()
        info = device_info()
        require_device(spec.device, info)
        result = train(params, data, spec.seed, spec.family, spec.folds, spec.replicates,
                       on_epoch, on_unit, epoch_metrics=spec.epoch_metrics)
    except Exception as err:  # noqa: BLE001 - the campaign records it as a failed trial
        return TrialOutcome(index, error=f"{type(err).__name__}: {err}".splitlines()[0][:500],
                            seconds=time.perf_counter() - start)
    info = {**device_info(), "lstm_kernel": cudnn_note(params, info),
            "worker_trials": COUNTS["trials"], "worker_data_loads": COUNTS["data_loads"]}
    if keep_model:
        return TrialOutcome(index, result, None, None, info, time.perf_counter() - start)
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
                            len(data.class_names),
                            train_feature_stats(family, data.x_train, len(data.vocabulary)),
                            vocabulary=data.vocabulary, train_ids=data.x_train,
                            train_labels=data.y_train)
        model.set_weights(weights)
        model.optimizer.build(model.trainable_variables)  # saved like a trained model
        models.append(model)
    return average_models(models) if models else None
