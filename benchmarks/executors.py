"""Benchmark (not a test): executors' throughput, and what early stopping across trials saves.

    SENTIMENT_HPO_DATA_DIR=../shared/data python benchmarks/executors.py \
        --store /tmp/hpo-bench [--trials 8] [--es-trials 12] [--part all|throughput|early-stopping]

1. Throughput: the same campaign (GOP debate tweets, Sobol only so every executor trains the
   same parameterizations, short 1-epoch trials) under inline, local(2) and ray(2); trials per
   hour from the campaign's wall time, start-up (worker spawn, Ray start) included.
2. Early stopping: the same Sobol campaign (up to 6 epochs a trial) with and without Ax's
   percentile rule; paired by trial index, since Sobol proposes the same points in both.
   Epochs saved = epochs trained without it - with it; best value lost = best val_macro_f1
   without it - with it.

Writes results.json and results.md into the store folder; prints the markdown.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHORT = {  # short trials: 1 epoch of a small LSTM, fixed batch
    "parameters": {
        "learning_rate": {"type": "float", "bounds": [1.0e-3, 0.05], "log_scale": True},
        "dropout_rate": {"type": "float", "bounds": [0.0, 0.5]},
        "lstm_units": {"type": "int", "bounds": [4, 16]},
        "neurons_dense": {"type": "int", "bounds": [4, 16]},
        "embedding_size": {"type": "int", "bounds": [16, 64], "log_scale": True},
    },
    "fixed": {"num_epochs": 1, "batch_size": 512, "class_weight": "balanced"},
}


def experiment(space: dict, trials: int, **changes):
    from sentiment_core.config import parse_search_space
    from sentiment_core.experiments import load_experiment

    exp = load_experiment("gop_debate_demo")
    return dataclasses.replace(
        exp, space=parse_search_space(space, "benchmarks/executors.py"),
        optimizer=dataclasses.replace(exp.optimizer, strategy="random"),
        budget=dataclasses.replace(exp.budget, trials=trials), **changes)


def campaign(exp, name: str, trials: int, store_dir: Path) -> dict:
    from sentiment_core.campaign import Store, run_campaign

    data_dir = Path(os.environ.get("SENTIMENT_HPO_DATA_DIR", ROOT / "data"))
    store = Store(store_dir, data_dir)
    start = time.perf_counter()
    summary = run_campaign(exp, name, trials, store, progress=lambda m: None)
    wall = time.perf_counter() - start
    rows = store.tracker().trial_rows(summary.parent_run_id)
    return {"summary": summary, "wall_s": wall, "rows": rows}


def throughput(store: Path, trials: int) -> list[dict]:
    from sentiment_core.campaign import with_execution

    base = experiment(SHORT, trials)
    out = []
    # warm the data cache first, so no executor pays for tokenizing
    from sentiment_core.data import prepare

    data_dir = Path(os.environ.get("SENTIMENT_HPO_DATA_DIR", ROOT / "data"))
    prepare(base, data_dir, store / "cache")
    for kind, workers in (("inline", 1), ("local", 2), ("ray", 2)):
        exp = with_execution(base, executor=kind, workers=workers, cpus_per_trial=1)
        print(f"throughput: {kind}({workers}), {trials} trials ...", flush=True)
        result = campaign(exp, f"tp-{kind}-{int(time.time())}", trials, store)
        trial_s = [r["metrics"].get("time_trial_s") for r in result["rows"]]
        trial_s = [t for t in trial_s if t is not None]
        out.append({
            "executor": f"{kind}({workers})", "trials": trials,
            "wall_s": round(result["wall_s"], 1),
            "trials_per_hour": round(trials / result["wall_s"] * 3600),
            "mean_trial_s": round(sum(trial_s) / len(trial_s), 1) if trial_s else None,
            "best_val_macro_f1": round(result["summary"].best["metrics"]["val_macro_f1"], 4),
        })
        print(out[-1], flush=True)
    return out


def early_stopping(store: Path, trials: int, epochs: int = 6) -> dict:
    from sentiment_core.config import EarlyStoppingConfig

    space = {**SHORT, "fixed": {**SHORT["fixed"], "num_epochs": epochs}}
    runs = {}
    for enabled in (False, True):
        exp = experiment(space, trials, early_stopping=EarlyStoppingConfig(
            enabled=enabled, percentile=50.0, min_epochs=1, min_curves=3))
        print(f"early stopping {'on' if enabled else 'off'}: {trials} trials ...", flush=True)
        runs[enabled] = campaign(exp, f"es-{'on' if enabled else 'off'}-{int(time.time())}",
                                 trials, store)

    def epochs_of(rows) -> dict[int, int]:
        return {int(r["tags"]["ax_trial_index"]): int(r["metrics"].get("epochs_run", 0))
                for r in rows if r["tags"].get("source") == "campaign"}

    def best(rows) -> float:
        return max(r["metrics"]["val_macro_f1"] for r in rows
                   if r["tags"].get("ax_status") != "EARLY_STOPPED"
                   and "val_macro_f1" in r["metrics"])

    off, on = epochs_of(runs[False]["rows"]), epochs_of(runs[True]["rows"])
    same_points = sorted(off) == sorted(on)
    return {
        "trials": trials, "max_epochs": epochs, "paired_by_trial_index": same_points,
        "early_stopped_trials": runs[True]["summary"].early_stopped,
        "epochs_without": sum(off.values()), "epochs_with": sum(on.values()),
        "epochs_saved": sum(off.values()) - sum(on.values()),
        "epochs_saved_pct": round(100 * (1 - sum(on.values()) / max(sum(off.values()), 1)), 1),
        "wall_s_without": round(runs[False]["wall_s"], 1),
        "wall_s_with": round(runs[True]["wall_s"], 1),
        "best_without": round(best(runs[False]["rows"]), 4),
        "best_with": round(best(runs[True]["rows"]), 4),
        "best_value_lost": round(best(runs[False]["rows"]) - best(runs[True]["rows"]), 4),
    }


def markdown(results: dict) -> str:
    lines = [f"machine: {results['machine']}", ""]
    if results.get("throughput"):
        lines += ["| executor | trials | wall s | trials/hour | mean trial s | best val_macro_f1 |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {r['executor']} | {r['trials']} | {r['wall_s']} | {r['trials_per_hour']} "
                  f"| {r['mean_trial_s']} | {r['best_val_macro_f1']} |"
                  for r in results["throughput"]]
        lines.append("")
    es = results.get("early_stopping")
    if es:
        lines += ["| early stopping | epochs trained | wall s | best val_macro_f1 |",
                  "|---|---|---|---|",
                  f"| off | {es['epochs_without']} | {es['wall_s_without']} | "
                  f"{es['best_without']} |",
                  f"| on ({es['early_stopped_trials']} of {es['trials']} stopped) | "
                  f"{es['epochs_with']} | {es['wall_s_with']} | {es['best_with']} |", "",
                  f"epochs saved: {es['epochs_saved']} ({es['epochs_saved_pct']}%); best value "
                  f"lost: {es['best_value_lost']}; same points in both: "
                  f"{es['paired_by_trial_index']}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--es-trials", type=int, default=12)
    parser.add_argument("--part", choices=["all", "throughput", "early-stopping"],
                        default="all")
    args = parser.parse_args()
    args.store.mkdir(parents=True, exist_ok=True)
    results = {"machine": f"{platform.node()}, {os.cpu_count()} CPUs, {platform.python_version()}"}
    if args.part in ("all", "throughput"):
        results["throughput"] = throughput(args.store, args.trials)
    if args.part in ("all", "early-stopping"):
        results["early_stopping"] = early_stopping(args.store, args.es_trials)
    (args.store / "results.json").write_text(json.dumps(results, indent=2))
    text = markdown(results)
    (args.store / "results.md").write_text(text + "\n")
    from benchmarks.common import machine_line, write_section

    command = " ".join(["python -m benchmarks.executors", *sys.argv[1:]])
    write_section("Executors and early stopping across trials",
                  f"{machine_line()}. Command: `{command}`.\n\n{text}")
    print(text)


if __name__ == "__main__":  # the local executor spawns processes that import this module
    main()
