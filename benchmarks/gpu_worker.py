"""Benchmark (not a test): the GPU worker, one prepared script for a machine with a GPU (issue 19,
item 7). Run it there, and once on the CPU machine its figures compare with:

    SENTIMENT_HPO_DATA_DIR=... python -m benchmarks.gpu_worker [--quick] [--no-ray] [--out DIR]

1. The BiLSTM family's training samples/s (`bilstm_maxpool`, the parameters of training_speed,
   fit alone), each device in a fresh process: the GPU, then the same machine's CPU with the GPU
   hidden; batch 256 (the family's) and 1024. The cuDNN path is confirmed, not assumed: the
   child counts the LSTM layers Keras builds on its fused cuDNN kernel (see count_fused_lstm).
2. A Ray campaign with fractional GPUs (`gop_debate_demo`, 4 trials, 4 workers x 0.25 GPU), and
   what each trial's run says it ran on (device, LSTM kernel, peak GPU memory), read back from
   MLflow.

Without a GPU, part 1 measures the CPU alone and part 2 is skipped; the section says so.
The worker's own stack is TensorFlow with CUDA (`tensorflow[and-cuda]`, not the
`tensorflow-cpu` of `make setup`) and the `ray` extra. KERAS_BACKEND=torch|jax runs part 1 on
those backends (they need TensorFlow only to tokenize: carry the GOP CSV and its prepared cache,
`mlruns/cache/`, and the data is read from the cache); they have no cuDNN path for masked input,
which the count then shows. Writes `gpu_worker.json` into --out and a section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine_line, write_section

ROOT = Path(__file__).resolve().parents[1]
FAMILY = "bilstm_maxpool"
BATCHES = (256, 1024)
DEVICE_TAGS = ("device", "lstm_kernel", "gpu_memory_peak_mb", "worker_pid", "cuda_visible_devices")


def count_fused_lstm() -> list[int]:
    """Count the LSTM layers that Keras builds on cuDNN from now on (at trace time for compiled
    steps): TensorFlow's and torch's `_cudnn_lstm`, and jax's `lstm`, whose only path is cuDNN.
    Every other case raises NotImplementedError (or, torch, falls back) and is not counted."""
    import importlib

    import keras

    backend = keras.backend.backend()
    # the module, not the `rnn` function its package exports under the same name
    module = importlib.import_module(f"keras.src.backend.{backend}.rnn")
    name = "lstm" if backend == "jax" else "_cudnn_lstm"
    builds, build = [0], getattr(module, name)

    def counted(*args, **kwargs):
        out = build(*args, **kwargs)
        builds[0] += 1  # reached only when the fused kernel was built
        return out

    setattr(module, name, counted)
    if backend == "jax":  # the layers call the name keras.src.backend re-exports
        importlib.import_module("keras.src.backend").lstm = counted
    return builds


def measure(device: str, seeds: int, epochs: int) -> dict:
    """In this (fresh) process: samples/s of the family on `device`, and cuDNN builds."""
    from sentiment_core.campaign.execution.worker import configure_process

    configure_process(device="cpu" if device == "cpu" else "auto")
    from benchmarks.training_speed import FAMILIES, gop_data
    from sentiment_core.campaign.execution.worker import device_info
    from sentiment_core.trial import run_trial

    cudnn_builds = count_fused_lstm()
    data = gop_data()
    info = device_info()
    if device == "gpu" and not info.get("gpu_count"):
        return {"device": device, "error": f"{info['keras_backend']} sees no GPU on "
                                           f"{info['host']}"}
    rows = []
    for batch in BATCHES:
        for seed in range(seeds):
            cudnn_builds[0] = 0
            params = {**FAMILIES[FAMILY], "batch_size": batch, "num_epochs": epochs,
                      "class_weight": "balanced"}
            result = run_trial(params, data, seed, FAMILY)
            rows.append({"batch": batch, "seed": seed, "cudnn_builds": cudnn_builds[0],
                         "train_samples_per_s": result.timings["train_samples_per_s"],
                         "val_macro_f1": result.metrics["val_macro_f1"]})
            print(f"  {device} batch {batch} seed {seed}: "
                  f"{rows[-1]['train_samples_per_s']:,.0f} samples/s, "
                  f"cuDNN LSTM builds {cudnn_builds[0]}", file=sys.stderr, flush=True)
    return {"device": device, "device_info": device_info(), "runs": rows}


def in_fresh_process(device: str, seeds: int, epochs: int) -> dict:
    """A backend binds to the GPUs visible when it is imported: one process per device."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.gpu_worker", "--child", device,
                           "--seeds", str(seeds), "--epochs", str(epochs)],
                          cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def ray_campaign(trials: int, workers: int, gpus: float, device: str = "gpu") -> dict:
    """`campaign run` on Ray with fractional GPUs in a scratch store; each trial's device tags."""
    store = Path(tempfile.mkdtemp(prefix="gpu-worker-store-"))
    cli = [sys.executable, "-m", "sentiment_core.cli", "--store", str(store)]
    command = cli + ["campaign", "run", "gop_debate_demo", "--name", "gpu-ray",
                     "--trials", str(trials), "--executor", "ray", "--workers", str(workers),
                     "--gpus-per-trial", str(gpus), "--device", device]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        shutil.rmtree(store, ignore_errors=True)
        return {"command": " ".join(command[3:]), "rc": done.returncode,
                "stderr": done.stderr[-3000:]}
    from sentiment_core.campaign import Store

    tracker = Store(store, ROOT).tracker()  # the platform's MLflow adapter reads the runs back
    rows = tracker.trial_rows(tracker.require_campaign("gpu-ray").info.run_id)
    shutil.rmtree(store, ignore_errors=True)
    return {"command": " ".join(command[3:]), "rc": 0, "wall_s": wall, "trials": [
        {"run": r["run_name"], **{k: r["tags"].get(k) for k in DEVICE_TAGS},
         **{k: r["metrics"].get(k) for k in ("val_macro_f1", "time_trial_s")}} for r in rows]}


def summary(result: dict) -> dict[int, float]:
    return {b: statistics.median(r["train_samples_per_s"] for r in result["runs"]
                                 if r["batch"] == b) for b in BATCHES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, 2 epochs, 2 Ray trials")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks")
    parser.add_argument("--no-ray", action="store_true",
                        help="skip the Ray campaign (a machine without Ray, MLflow or Ax)")
    parser.add_argument("--child", choices=["gpu", "cpu"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    seeds, epochs = (1, 2) if args.quick else (args.seeds, args.epochs)
    if args.child:
        print(json.dumps(measure(args.child, seeds, epochs)))
        return
    start = time.perf_counter()
    gpu = in_fresh_process("gpu", seeds, epochs)
    has_gpu = "error" not in gpu
    cpu = in_fresh_process("cpu", seeds, epochs)
    ray = ray_campaign(2 if args.quick else 4, 4, 0.25) if has_gpu and not args.no_ray else None
    report = {"machine": machine_line(), "epochs": epochs, "gpu": gpu, "cpu": cpu, "ray": ray,
              "wall_s": time.perf_counter() - start}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu_worker.json").write_text(json.dumps(report, indent=1, default=str))
    # without a GPU this is the reference the GPU machine's figures compare with
    title = "GPU worker" if has_gpu else "GPU worker: the CPU reference (no GPU)"
    flags = [f for f, on in (("--quick", args.quick), ("--no-ray", args.no_ray)) if on]
    write_section(title, render(report, " ".join(["python -m benchmarks.gpu_worker", *flags])))
    print(f"wrote {args.out / 'gpu_worker.json'} and benchmarks/RESULTS.md")


def render(report: dict, command: str) -> str:
    cpu, gpu = summary(report["cpu"]), report["gpu"]
    runs = report["cpu"]["runs"]
    lines = [f"Command: `{command}`.", report["machine"] + ".", ""]
    if "error" in gpu:
        lines += [f"{gpu['error']}: CPU figures only, the reference for a GPU machine's; the "
                  f"Ray campaign with fractional GPUs was skipped.", ""]
    lines += [f"`{FAMILY}` training samples/s (fit alone; median of "
              f"{len({r['seed'] for r in runs})} seeds x "
              f"{report.get('epochs', '?')} epochs; each device in a fresh process).", "",
              "| device | batch | samples/s | cuDNN LSTM builds | vs this machine's CPU |",
              "| --- | --- | --- | --- | --- |"]
    for name, result in (("gpu", gpu), ("cpu", report["cpu"])):
        if "error" in result:
            continue
        speeds = summary(result)
        for batch in BATCHES:
            builds = max(r["cudnn_builds"] for r in result["runs"] if r["batch"] == batch)
            info = result["device_info"]
            lines.append(f"| {info['keras_backend']} {info.get('device', name)} | {batch} | "
                         f"{speeds[batch]:,.0f} | {builds} | {speeds[batch] / cpu[batch]:.2f}× |")
    ray = report["ray"]
    if ray and ray.get("rc") == 0:
        lines += ["", f"Ray campaign: `sentiment-hpo {ray['command']}`, wall "
                      f"{ray['wall_s']:.0f} s.", "",
                  "| trial | device | LSTM kernel | peak GPU MB | worker pid |",
                  "| --- | --- | --- | --- | --- |"]
        for t in ray["trials"]:
            lines.append(f"| {t['run']} | {t['device']} | {t['lstm_kernel']} | "
                         f"{t['gpu_memory_peak_mb']} | {t['worker_pid']} |")
    elif ray:
        lines += ["", f"Ray campaign failed (rc {ray['rc']}): `{ray['command']}`", "",
                  "```", ray["stderr"][-1500:], "```"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
