"""Benchmark (not a test): one trial through `sentiment-hpo train` against a bare Keras script
written the seed's way (`benchmarks/bare_keras.py`: read, clean, tokenize, pad, fit), same model,
data, parameters and epochs.

    SENTIMENT_HPO_DATA_DIR=../shared/data python -m benchmarks.platform_tax [--quick]

Each repeat runs both as fresh processes, alternating which goes first; the platform reads its
prepared-data cache (warmed once, as any campaign after the first trial does). Reported: training
samples/s of fit alone (validation passes excluded; both time it the same way, from each epoch's
start to its validation pass) and whole-process wall time; medians, min–max, and the ratios of
each repeat.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import machine_line, write_section

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "sentiment_core.cli"]
# the bare script's training: no class weights, early stopping judged on the validation loss
TRAIN_ARGS = ["train", "gop_debate_lstm", "--param", "num_epochs={epochs}",
              "--param", "class_weight=none", "--param", "early_stopping_monitor=val_loss",
              "--param", "early_stopping_patience=0"]


def timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    return time.perf_counter() - start, out.stdout


def bare(epochs: int) -> dict:
    wall, out = timed([sys.executable, "-m", "benchmarks.bare_keras", "--epochs", str(epochs)])
    result = json.loads(out.strip().splitlines()[-1])
    return {"wall": wall, "sps": result["train_samples_per_s"]}


def platform(epochs: int, extra: list[str]) -> dict:
    args = [a.format(epochs=epochs) for a in TRAIN_ARGS] + extra
    wall, out = timed(CLI + args)
    sps = re.search(r"train_samples_per_s\s+([\d,]+)", out).group(1)
    return {"wall": wall, "sps": float(sps.replace(",", ""))}


def summary(values: list[float], fmt: str = ",.0f") -> str:
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 repeats")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    repeats = 2 if args.quick else args.repeats
    command = "python -m benchmarks.platform_tax" + (" --quick" if args.quick else "")
    timed(CLI + ["data", "inspect", "gop_debate_lstm"])  # warms the prepared-data cache
    runs = {"bare": [], "platform": [], "bucketed": []}
    for r in range(repeats):
        order = ["bare", "platform", "bucketed"]
        for kind in order if r % 2 == 0 else order[::-1]:
            runs[kind].append(bare(args.epochs) if kind == "bare" else platform(
                args.epochs, ["--param", "length_buckets=4"] if kind == "bucketed" else []))
            print(f"repeat {r + 1} {kind}: {runs[kind][-1]['sps']:,.0f} samples/s, "
                  f"{runs[kind][-1]['wall']:.1f} s", flush=True)
    rows = []
    for kind, label in (("bare", "bare Keras script (seed's way)"),
                        ("platform", "`sentiment-hpo train`, fixed padding"),
                        ("bucketed", "`sentiment-hpo train`, `length_buckets=4`")):
        sps = [x["sps"] for x in runs[kind]]
        wall = [x["wall"] for x in runs[kind]]
        fit_ratio = [x["sps"] / b["sps"] for x, b in zip(runs[kind], runs["bare"])]
        wall_ratio = [x["wall"] / b["wall"] for x, b in zip(runs[kind], runs["bare"])]
        rows.append(f"| {label} | {summary(sps)} | {summary(fit_ratio, '.2f')}× | "
                    f"{summary(wall, '.1f')} | {summary(wall_ratio, '.2f')}× |")
    write_section("Platform tax" + (" (quick)" if args.quick else ""), f"""
{machine_line()}. Command: `{command}` ({repeats} repeats, {args.epochs} epochs, fresh processes,
order alternating).

GOP debate tweets; Table 5's best LSTM (embedding 173, 10 units, dense 18, batch 806, lr 0.0072);
no class weights, validation every epoch. Fit samples/s counts the training part of each epoch
only. Ratios are per repeat (each run against the bare run of the same repeat), then the median.
A ratio above 1 in samples/s and below 1 in wall time favours the platform.

| run | fit samples/s | vs bare | process wall s | vs bare |
| --- | --- | --- | --- | --- |
{chr(10).join(rows)}
""")
    print(f"wrote benchmarks/RESULTS.md ({command})")


if __name__ == "__main__":
    sys.exit(main())
