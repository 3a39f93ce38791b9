"""Bayesian optimization vs random search on the GOP tweets, same budget, noise-aware objective.

    python benchmarks/bo_vs_random.py --seeds 5 --trials 20        # ~15-30 min on 2 cores
    python benchmarks/bo_vs_random.py --quick                        # 2 seeds x 8 trials

For each campaign seed, a Bayesian (Sobol then BoTorch) and a random (Sobol only) campaign run
side by side (interleaved) through the project's own Ax adapter and `run_objective`, without
MLflow: this measures the optimizer, not the platform. Reported: the median number of trials to
reach 99% of the best mean any run found, each run's final best (validation mean) and that
winner's test macro F1 (scored once per run), and a best-so-far PNG with the spread.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine_line, write_section  # noqa: E402
from sentiment_core.campaign import Search  # noqa: E402
from sentiment_core.data import data_dir, prepare  # noqa: E402
from sentiment_core.evaluation import classification_metrics  # noqa: E402
from sentiment_core.experiments import load_experiment  # noqa: E402
from sentiment_core.trial import run_objective  # noqa: E402

STRATEGIES = ("bayesian", "random")


def run_one(experiment, data, strategy: str, seed: int, trials: int, db: Path) -> dict:
    optimizer = dataclasses.replace(experiment.optimizer, strategy=strategy)
    search = Search.open(f"{strategy}-{seed}", experiment.space, experiment.objective,
                         optimizer, seed, db)
    metric, objective = experiment.objective.metric, experiment.objective
    values, best, best_model = [], -np.inf, None
    for _ in range(trials):
        (index, tuned), = search.ask(1).items()
        params = {**tuned, **experiment.space.fixed}
        result = run_objective(params, data, experiment.seed, experiment.model.family,
                               objective.folds, objective.replicates)
        value = result.mean[metric]
        search.tell(index, {metric: (value, result.sem(metric))})
        values.append(value)
        if value > best:
            best, best_model = value, result.model
    proba = best_model.predict(data.x_test, batch_size=1024, verbose=0).reshape(-1)
    return {"values": [float(v) for v in values], "best": float(best),
            "test_macro_f1": float(classification_metrics(data.y_test, proba)["macro_f1"])}


def trials_to_reach(values: list[float], target: float) -> int:
    """1-based trial at which the best so far first reaches `target`; len + 1 if never."""
    best = np.maximum.accumulate(values)
    hits = np.flatnonzero(best >= target)
    return int(hits[0]) + 1 if len(hits) else len(values) + 1


def plot(runs: dict, trials: int, target: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    x = np.arange(1, trials + 1)
    for strategy, color in zip(STRATEGIES, ("tab:blue", "tab:orange")):
        curves = np.array([np.maximum.accumulate(r["values"]) for r in runs[strategy]])
        ax.plot(x, np.median(curves, axis=0), color=color, label=f"{strategy} (median)")
        ax.fill_between(x, curves.min(axis=0), curves.max(axis=0), color=color, alpha=0.2,
                        label=f"{strategy} (min-max over {len(curves)} seeds)")
    ax.axhline(target, color="gray", linestyle="--", label="99% of the best mean found")
    ax.set_xlabel("trial")
    ax.set_ylabel("best validation macro F1 so far (mean of seeds)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="2 seeds x 8 trials")
    parser.add_argument("--experiment", default="gop_bench_fast")
    parser.add_argument("--report-only", action="store_true",
                        help="Summarize the runs saved so far without running more")
    args = parser.parse_args()
    seeds, trials = (2, 8) if args.quick else (args.seeds, args.trials)
    experiment = load_experiment(args.experiment)
    data = prepare(experiment, data_dir(), ROOT / "mlruns" / "cache", progress=print)
    # every finished run is saved at once, so a long benchmark can be summarized part-way
    saved = ROOT / "benchmarks" / "bo_vs_random_runs.json"
    runs = json.loads(saved.read_text()) if args.report_only else {s: [] for s in STRATEGIES}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(1, 0 if args.report_only else seeds + 1):
            for strategy in STRATEGIES:  # interleaved: both see the same machine load
                began = time.perf_counter()
                runs[strategy].append(run_one(experiment, data, strategy, seed, trials,
                                              Path(tmp) / "ax.db"))
                print(f"seed {seed} {strategy}: best {runs[strategy][-1]['best']:.4f} "
                      f"({time.perf_counter() - began:.0f} s)", flush=True)
                saved.write_text(json.dumps(runs))
    seeds = min(len(r) for r in runs.values())
    runs = {s: r[:seeds] for s, r in runs.items()}  # whole pairs only
    target = 0.99 * max(r["best"] for rs in runs.values() for r in rs)
    reach = {s: [trials_to_reach(r["values"], target) for r in runs[s]] for s in STRATEGIES}
    png = ROOT / "benchmarks" / "bo_vs_random.png"
    plot(runs, trials, target, png)
    med = {s: statistics.median(reach[s]) for s in STRATEGIES}

    def spread(key: str, s: str) -> str:
        values = [r[key] for r in runs[s]]
        return f"{statistics.fmean(values):.4f} ± {statistics.stdev(values):.4f}"

    lines = [
        f"Command: `python benchmarks/bo_vs_random.py {' '.join(sys.argv[1:])}`".rstrip(),
        f"{machine_line()}; wall {(time.perf_counter() - start) / 60:.1f} min.",
        f"Experiment `{args.experiment}`: objective {experiment.objective.metric}, mean of "
        f"{experiment.objective.replicates} seeds per trial (Ax told mean and SEM); "
        f"{seeds} campaign seeds x {trials} trials per strategy, interleaved.",
        "",
        "| strategy | median trials to 99% of best | trials to reach, per seed | "
        "final best val (mean ± sd) | winner's test macro F1 (mean ± sd) |",
        "|---|---|---|---|---|",
        *[f"| {s} | {med[s]} | {reach[s]} | {spread('best', s)} | "
          f"{spread('test_macro_f1', s)} |" for s in STRATEGIES],
        "",
        f"Target (99% of the best mean any run found): {target:.4f}. A run that never reached "
        f"it counts as {trials + 1}. Ratio bayesian / random: "
        f"{med['bayesian'] / med['random']:.2f} (target ≤ 0.5).",
        f"Best-so-far plot: `benchmarks/{png.name}`.",
    ]
    write_section("Bayesian vs random search", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
