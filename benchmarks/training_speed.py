"""Benchmark (not a test): length-bucketed batches against fixed padding, and each family's
training FLOP/s as a fraction of this machine's fp32 matrix-multiply rate.

    SENTIMENT_HPO_DATA_DIR=../shared/data python -m benchmarks.training_speed [--quick]

Same data (the GOP debate tweets, the platform's split and cache), same parameters and seeds;
fixed padding and bucketing alternate run by run (interleaved, `--repeats` seeds each), and each
run is a `run_trial` with the epochs fixed (no early stopping). Fit speed is the training part of
fit alone (`train_samples_per_s`: validation passes excluded); quality is the validation macro F1
of the same seed. Writes two sections of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import machine_line, write_section

ROOT = Path(__file__).resolve().parents[1]
BUCKETS = 4
FAMILIES = {  # Table 5's best LSTM (seed 000's Table 3) and seed 001's BiLSTM + max pooling
    "lstm": {"learning_rate": 0.007169632435246209, "dropout_rate": 0.04510561357026982,
             "lstm_units": 10, "neurons_dense": 18, "batch_size": 806, "embedding_size": 173},
    "bilstm_maxpool": {"learning_rate": 5.0e-4, "embedding_size": 150, "lstm_units": 64,
                       "dropout_rate": 0.3, "batch_size": 256},
}


def gop_data():
    from sentiment_core.data import prepare
    from sentiment_core.experiments import load_experiment

    data_dir = Path(os.environ.get("SENTIMENT_HPO_DATA_DIR", ROOT / "data"))
    return prepare(load_experiment("gop_debate_lstm"), data_dir, ROOT / "mlruns" / "cache")


def matmul_gflops(n: int = 4096, repeats: int = 3) -> float:
    """fp32 n x n matrix multiply with NumPy (2 n^3 FLOPs), the best of `repeats`."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), np.float32), rng.random((n, n), np.float32)
    a @ b  # warm-up
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def _timed(f) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def train_flops_per_sample(family: str, params: dict, steps: float) -> float:
    """Training FLOPs per sample, forward + backward = 3 x forward, for `steps` recurrent steps:
    an LSTM direction with input d and h units does 4 gates x 2 (d + h) h per step; the dense
    layers 2 x inputs x outputs; the embedding lookup and pooling are not counted."""
    d, h = params["embedding_size"], params["lstm_units"]
    lstm = 8 * (d + h) * h * steps
    if family == "bilstm_maxpool":
        forward = 2 * lstm + 2 * (2 * h)  # two directions; output layer on 2h
    else:
        dense = params["neurons_dense"]
        forward = lstm + 2 * h * dense + 2 * dense
    return 3 * forward


def executed_steps(data, buckets: int) -> float:
    """Mean recurrent steps per training row: the full length, or the row's bucket length."""
    from sentiment_core.data import bucket_boundaries, token_lengths

    if not buckets:
        return float(data.sequence_length)
    lengths = token_lengths(data.x_train)
    boundaries = bucket_boundaries(lengths, data.sequence_length, buckets)
    return float(np.mean(np.asarray(boundaries)[np.searchsorted(boundaries, lengths)]))


def run(family: str, data, seed: int, epochs: int, buckets: int) -> dict:
    from sentiment_core.trial import run_trial

    params = {**FAMILIES[family], "num_epochs": epochs, "length_buckets": buckets,
              "class_weight": "balanced"}  # as the GOP search spaces train
    result = run_trial(params, data, seed, family)
    return {"family": family, "seed": seed, "buckets": buckets,
            "train_sps": result.timings["train_samples_per_s"],
            "fit_sps": result.timings["samples_per_s"],
            "macro_f1": result.metrics["val_macro_f1"]}


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, 1 epoch")
    parser.add_argument("--repeats", type=int, default=5, help="seeds per setting")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    repeats, epochs = (1, 1) if args.quick else (args.repeats, args.epochs)
    command = "python -m benchmarks.training_speed" + (" --quick" if args.quick else "")
    data = gop_data()
    peak = matmul_gflops()
    print(f"numpy fp32 matmul: {peak:.0f} GFLOP/s", flush=True)
    runs = []
    for seed in range(repeats):
        for family in FAMILIES:
            for buckets in (0, BUCKETS):  # interleaved: fixed, bucketed, fixed, ...
                runs.append(run(family, data, seed, epochs, buckets))
                r = runs[-1]
                print(f"{family} buckets={buckets} seed={seed}: {r['train_sps']:,.0f} "
                      f"samples/s, val macro F1 {r['macro_f1']:.4f}", flush=True)
    bucket_rows, flop_rows = [], []
    for family, params in FAMILIES.items():
        mine = {b: [r for r in runs if r["family"] == family and r["buckets"] == b]
                for b in (0, BUCKETS)}
        ratios = [b["train_sps"] / f["train_sps"] for f, b in zip(mine[0], mine[BUCKETS])]
        f1_gap = [b["macro_f1"] - f["macro_f1"] for f, b in zip(mine[0], mine[BUCKETS])]
        gap_se = statistics.stdev(f1_gap) / len(f1_gap) ** 0.5 if len(f1_gap) > 1 else 0.0
        bucket_rows.append(
            f"| {family} | {spread([r['train_sps'] for r in mine[0]])} | "
            f"{spread([r['train_sps'] for r in mine[BUCKETS]])} | "
            f"**{statistics.median(ratios):.2f}×** ({min(ratios):.2f}–{max(ratios):.2f}) | "
            f"{statistics.fmean(r['macro_f1'] for r in mine[0]):.4f} | "
            f"{statistics.fmean(r['macro_f1'] for r in mine[BUCKETS]):.4f} | "
            f"{100 * statistics.fmean(f1_gap):+.2f} ± {100 * gap_se:.2f} |")
        for b in (0, BUCKETS):
            steps = executed_steps(data, b)
            flops = train_flops_per_sample(family, params, steps)
            sps = statistics.median(r["train_sps"] for r in mine[b])
            achieved = flops * sps / 1e9
            flop_rows.append(
                f"| {family} | {'bucketed' if b else 'fixed 40'} | {steps:.1f} | "
                f"{flops / 1e6:.2f} | {sps:,.0f} | {achieved:.1f} | "
                f"**{100 * achieved / peak:.1f}%** | {peak * 1e9 / flops:,.0f} |")
    header = f"{machine_line()}. Command: `{command}` ({repeats} seed(s) x {epochs} epoch(s) " \
             f"per setting, interleaved; median (min–max))."
    write_section("Length-bucketed batches" + (" (quick)" if args.quick else ""), f"""
{header}

GOP debate tweets, {len(data.y_train):,} training rows padded to {data.sequence_length} tokens
(p50 16, p95 23). Bucketed: {BUCKETS} bucket lengths at the train lengths' quartiles
({', '.join(map(str, _boundaries(data)))}), each batch trimmed to its bucket; the model masks
padding either way. Training samples/s of fit alone (validation excluded); macro F1 on the
validation split, same seeds.

| family | fixed padding samples/s | bucketed samples/s | speed-up | fixed val macro F1 (mean) | bucketed val macro F1 (mean) | F1 change, points (paired mean ± se) |
| --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(bucket_rows)}
""")
    write_section("Distance to the machine's limit" + (" (quick)" if args.quick else ""), f"""
{header}

Peak: NumPy fp32 4096² matrix multiply, best of 3: **{peak:.0f} GFLOP/s**.
FLOPs per training sample = 3 × forward (backward ≈ 2 × forward); forward = per LSTM direction
8·(d + h)·h per executed step (4 gates, a (d + h) × h matrix each, multiply-add = 2 FLOPs) + dense
layers 2·in·out; d = embedding size, h = units. Executed steps: 40 with fixed padding (masking
does not skip the steps' arithmetic), the row's bucket length when bucketed. Ceiling = peak /
FLOPs per sample.

| family | batches | steps/row | MFLOP/sample | samples/s | GFLOP/s | of peak | ceiling samples/s |
| --- | --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(flop_rows)}
""")
    print(f"wrote benchmarks/RESULTS.md ({command})")


def _boundaries(data) -> list[int]:
    from sentiment_core.data import bucket_boundaries, token_lengths

    return bucket_boundaries(token_lengths(data.x_train), data.sequence_length, BUCKETS)


if __name__ == "__main__":
    sys.exit(main())
