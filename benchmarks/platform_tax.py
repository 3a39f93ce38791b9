"""Benchmark (not a test): one trial through `sentiment-hpo train` against a bare Keras script
written the seed's way (`benchmarks/bare_keras.py`: read, clean, tokenize, pad, fit), same model,
data, parameters and epochs. Same model means the same examples and vocabulary: the bare script
gets the platform's train/validation rows (duplicates grouped, stratified) and builds its
vocabulary from them with the experiment's `min_count` and `max_tokens`, so both Embeddings have
about the platform's ~4,300 rows, not 20,000.

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
import shutil
import statistics
import subprocess
import sys
import tempfile
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


def platform_split(store: Path, rows_file: Path) -> dict:
    """The platform's prepared data (from the cache `data inspect` warmed): its train and
    validation file rows, written for the bare script, and its vocabulary size."""
    from sentiment_core.data import data_dir, prepare
    from sentiment_core.experiments import load_experiment

    experiment = load_experiment("gop_debate_lstm")
    data = prepare(experiment, data_dir(), store / "cache")
    rows_file.write_text(json.dumps({k: data.rows[k].tolist() for k in ("train", "val")}))
    v = experiment.vectorization
    return {"vocabulary": len(data.vocabulary), "train": len(data.y_train),
            "val": len(data.y_val), "min_count": v.min_count, "max_tokens": v.max_tokens}


def bare(epochs: int, rows_file: Path, split: dict) -> dict:
    wall, out = timed([sys.executable, "-m", "benchmarks.bare_keras", "--epochs", str(epochs),
                       "--split", str(rows_file), "--min-count", str(split["min_count"]),
                       "--max-tokens", str(split["max_tokens"])])
    result = json.loads(out.strip().splitlines()[-1])
    return {"wall": wall, "sps": result["train_samples_per_s"],
            "vocabulary": result["vocabulary_size"], "train": result["train_rows"]}


def platform(epochs: int, extra: list[str]) -> dict:
    args = [a.format(epochs=epochs) for a in TRAIN_ARGS] + extra
    wall, out = timed(CLI + args)
    sps = re.search(r"train_samples_per_s\s+([\d,]+)", out).group(1)
    return {"wall": wall, "sps": float(sps.replace(",", ""))}


def summary(values: list[float], fmt: str = ",.0f") -> str:
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 repeats of 1 epoch")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    repeats = 2 if args.quick else args.repeats
    epochs = 1 if args.quick else args.epochs
    command = "python -m benchmarks.platform_tax" + (" --quick" if args.quick else "")
    work = Path(tempfile.mkdtemp(prefix="platform-tax-"))
    os.environ["SENTIMENT_HPO_STORE"] = str(work / "store")  # runs go to a temp store
    timed(CLI + ["data", "inspect", "gop_debate_lstm"])  # warms the prepared-data cache
    rows_file = work / "rows.json"
    split = platform_split(work / "store", rows_file)
    runs = {"bare": [], "platform": [], "bucketed": []}
    for r in range(repeats):
        order = ["bare", "platform", "bucketed"]
        for kind in order if r % 2 == 0 else order[::-1]:
            runs[kind].append(bare(epochs, rows_file, split) if kind == "bare" else platform(
                epochs, ["--param", "length_buckets=4"] if kind == "bucketed" else []))
            print(f"repeat {r + 1} {kind}: {runs[kind][-1]['sps']:,.0f} samples/s, "
                  f"{runs[kind][-1]['wall']:.1f} s", flush=True)
    shutil.rmtree(work, ignore_errors=True)  # the temp store: runs and cache
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
{machine_line()}. Command: `{command}` ({repeats} repeats, {epochs} epoch(s), fresh processes,
order alternating).

GOP debate tweets; Table 5's best LSTM (embedding 173, 10 units, dense 18, batch 806, lr 0.0072);
no class weights, validation every epoch. Same model on both sides: the bare script trains on the
platform's split ({split['train']:,} train / {split['val']:,} validation rows, duplicates grouped)
with a vocabulary built its own way from those train rows (min_count {split['min_count']}, at most
{split['max_tokens']:,}): {runs['bare'][0]['vocabulary']:,} tokens against the platform's
{split['vocabulary']:,} (the bare cleaning is simpler: no emoji, HTML-entity or repeated-letter
steps). Fit samples/s counts the training part of each epoch
only. Ratios are per repeat (each run against the bare run of the same repeat), then the median.
A ratio above 1 in samples/s and below 1 in wall time favours the platform.

| run | fit samples/s | vs bare | process wall s | vs bare |
| --- | --- | --- | --- | --- |
{chr(10).join(rows)}
""")
    print(f"wrote benchmarks/RESULTS.md ({command})")


if __name__ == "__main__":
    sys.exit(main())
