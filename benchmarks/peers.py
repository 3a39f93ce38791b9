"""The platform against what a user would pick instead, at equal wall-clock budgets.

    python -m benchmarks.peers --seeds 3 --budget 480     # full: 4 methods x 3 seeds x 8 min
    python -m benchmarks.peers --quick                    # 1 seed x 45 s, 2 methods: a smoke run
    python -m benchmarks.peers --seeds 3 --resume         # finish a run that was cut short

One objective for all: `run_objective` (the mean of the experiment's seeds, validation macro F1)
on the prepared data of `gop_bench_fast` (search_spaces/bench_fast.yaml, trials of a few
seconds). Methods (benchmarks/peer_methods.py): the platform with Bayesian optimization and
racing (`run_campaign`, inline executor, a temp store), the platform with random search, Optuna
TPE with a MedianPruner fed the running mean after each seed, and KerasTuner Hyperband (the
epochs as its resource). Each run gets the same budget, its clock started with the data cache
warm; only trials that ended inside the budget count, and only whole means (a raced or pruned
trial never becomes the incumbent). Run k of every method uses campaign seed `seed + k` (the
split, the training seeds and the optimizer's seed). The winner's test macro F1: its
configuration retrained with the seeds it was judged on and scored once on the test split, the
same way for every method; the test curve shows, from the time it was found, the score of
each incumbent scored (the final winner; every incumbent with --score-incumbents).
Reported: best validation mean and winner's test macro F1 against wall time (median and
min-max over seeds, `benchmarks/peers.png`) and the time each method needs to reach the best
peer's final quality, as a ratio to that peer's own time.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine_line, write_section  # noqa: E402
from benchmarks.peer_methods import (  # noqa: E402
    METHODS, PEERS, Bench, incumbents, run_method)



def outputs(quick: bool) -> tuple[Path, Path]:
    """Where the runs (JSON, saved after each) and the plot go; a quick run keeps its own."""
    stem = "peers_quick" if quick else "peers"
    return ROOT / "benchmarks" / f"{stem}_runs.json", ROOT / "benchmarks" / f"{stem}.png"


def curve(steps: list[dict], key: str, grid: np.ndarray) -> np.ndarray:
    """A step function of `key` over `grid` (NaN before the first step)."""
    out = np.full(len(grid), np.nan)
    for s in steps:
        if s.get(key) is not None:
            out[grid >= s["t"]] = s[key]
    return out


def time_to_reach(steps: list[dict], target: float) -> float:
    return next((s["t"] for s in steps if s["value"] >= target), math.inf)


def plot(runs: dict, budget: float, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.linspace(0, budget, 200)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    colors = dict(zip(METHODS, ("tab:blue", "tab:cyan", "tab:orange", "tab:green")))
    for method, method_runs in runs.items():
        ok = [r for r in method_runs if not r.get("error")]
        if not ok:
            continue
        for ax, key in zip(axes, ("value", "test_macro_f1")):
            curves = np.array([curve(incumbents(r["points"]), key, grid) for r in ok])
            with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
                __import__("warnings").simplefilter("ignore", RuntimeWarning)
                ax.plot(grid, np.nanmedian(curves, axis=0), color=colors[method],
                        label=f"{method} (median of {len(ok)})")
                ax.fill_between(grid, np.nanmin(curves, axis=0), np.nanmax(curves, axis=0),
                                color=colors[method], alpha=0.15)
    axes[0].set_ylabel("best validation macro F1 so far (mean of seeds)")
    axes[1].set_ylabel("that winner's test macro F1 (scored once)")
    for ax in axes:
        ax.set_xlabel("wall time (s)")
        ax.legend(fontsize=8)
    fig.suptitle("Peers at equal wall-clock budgets (bands: min-max over seeds)", fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def load_line(runs: dict) -> str:
    loads = [r["load"] for rs in runs.values() for r in rs if "load" in r]
    return (f" (1-min load average at the runs' starts {statistics.median(loads):.1f} "
            f"({min(loads):.1f}–{max(loads):.1f}))" if loads else "")


def report(runs: dict, args, budget: float, seeds: int, wall: str) -> str:
    saved, png = outputs(args.quick)
    ok = {m: [r for r in rs if not r.get("error")] for m, rs in runs.items()}
    final = {m: [incumbents(r["points"])[-1]["value"] if r["points"] else math.nan
                 for r in rs] for m, rs in ok.items() if rs}
    # a run without a trial inside the budget has no final best (-inf: below any target)
    final = {m: [-math.inf if math.isnan(v) else v for v in values]
             for m, values in final.items()}
    peers = [m for m in PEERS if m in final and max(final[m]) > -math.inf]
    best_peer = max(peers, key=lambda m: statistics.median(final[m])) if peers else None
    # the lower median: at least half of the best peer's runs reach it
    target = statistics.median_low(final[best_peer]) if peers else math.inf
    reach = {m: [time_to_reach(incumbents(r["points"]), target) for r in ok[m]] for m in final}
    peer_time = statistics.median(reach[best_peer]) if peers else math.inf

    def fmt(values: list[float], f: str = ".4f") -> str:
        values = [v for v in values if v is not None and math.isfinite(v)]
        if not values:
            return "–"
        return f"{statistics.median(values):{f}} ({min(values):{f}}–{max(values):{f}})"

    rows = []
    for m in [m for m in METHODS if m in runs]:  # a quick run leaves some methods out
        if m not in final:
            error = next((r["error"] for r in runs.get(m, []) if r.get("error")), "not run")
            rows.append(f"| {m} | failed: {error} | | | | | |")
            continue
        winners = [incumbents(r["points"])[-1] if r["points"] else {} for r in ok[m]]
        tests = [w.get("test_macro_f1") for w in winners]
        med = statistics.median(reach[m])
        ratio = med / peer_time if math.isfinite(med) and math.isfinite(peer_time) \
            else math.inf
        got = sum(math.isfinite(t) for t in reach[m])
        rows.append(
            f"| {m} | {fmt([float(r['trials']) for r in ok[m]], '.0f')} | "
            f"{fmt([float(r.get('stopped', 0)) for r in ok[m]], '.0f')} | {fmt(final[m])} | "
            f"{fmt(tests)} | {med:.0f} s ({got}/{len(ok[m])} reached) | "
            f"{ratio:.2f}× |".replace("inf s", "never").replace("inf×", "–"))
    command = "python -m benchmarks.peers " + " ".join(sys.argv[1:])
    return "\n".join([
        f"Command: `{command.strip()}`.",
        f"{machine_line()}. The 2 virtual cores may be shared with other jobs and with the "
        f"VM's host{load_line(runs)}: absolute times are noisy.{wall}",
        f"Experiment `{args.experiment}` (search space `bench_fast`): a trial is the mean of 2 "
        f"seeds' validation macro F1. {seeds} runs per method (campaign seeds "
        f"{args.seed}..{args.seed + seeds - 1}), {budget:.0f} s of wall time each, one method "
        "at a time, methods interleaved per seed.",
        "",
        "| method | trials completed | raced / pruned | final best val (median, min–max) | "
        "winner's test macro F1 | time to the best peer's final | vs best peer |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        (f"Best peer: **{best_peer}** (median final best val); target = the lower median of "
         f"its final bests, {target:.4f}. Time to reach: median over runs (a run that never "
         "reached it counts as never). Target of issue 19: the platform ≤ 0.5× the best "
         "peer's time." if peers else "No peer completed a trial inside the budget: no target "
         "and no ratio."),
        *[f"Failed run (left out above): {m} seed {r['seed']}: {r['error']}"
          for m, rs in runs.items() for r in rs if r.get("error")],
        f"Plot: `benchmarks/{png.name}`; every run's trials: `benchmarks/{saved.name}`.",
    ])


def whole_seeds(runs: dict) -> dict:
    """The saved runs cut to the seeds every method finished."""
    whole = min(len(rs) for rs in runs.values())
    return {m: rs[:whole] for m, rs in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=480.0, help="seconds per run")
    parser.add_argument("--quick", action="store_true",
                        help="1 seed x 45 s, the platform and Optuna only, no test scores")
    parser.add_argument("--score-incumbents", action="store_true",
                        help="Test-score every incumbent (the test curve over time), not only "
                             "the final winner: one retraining per incumbent, off the clock")
    parser.add_argument("--experiment", default="gop_bench_fast")
    parser.add_argument("--seed", type=int, default=2016, help="campaign seed of run 1")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--report-only", action="store_true",
                        help="Summarize the saved runs without running more")
    parser.add_argument("--resume", action="store_true",
                        help="Keep the saved runs' whole seeds and run the seeds still missing "
                             "(a seed cut short reruns for every method, so each sees one load)")
    args = parser.parse_args()
    seeds, budget = (1, 45.0) if args.quick else (args.seeds, args.budget)
    methods = [m for m in args.methods.split(",") if m]
    if args.quick and args.methods == ",".join(METHODS):
        methods = ["platform", "optuna"]  # a first trial ends at 15-50 s: 45 s shows one or two
    if unknown := set(methods) - set(METHODS):
        parser.error(f"--methods: unknown {sorted(unknown)} (choose from {', '.join(METHODS)})")
    start = time.perf_counter()
    saved, png = outputs(args.quick)
    runs = {m: [] for m in methods}
    if args.report_only or args.resume:
        runs = whole_seeds(json.loads(saved.read_text()))
    if not args.report_only:
        with tempfile.TemporaryDirectory(prefix="peers-") as tmp:
            for k in range(min(len(rs) for rs in runs.values()), seeds):
                bench = Bench.load(args.experiment, args.seed + k, budget, Path(tmp),
                                   scoring="all" if args.score_incumbents
                                   else "none" if args.quick else "winner")
                for method in methods:  # interleaved: each sees the same machine load
                    run = run_method(method, bench)
                    runs[method].append(run)
                    best = max((p["value"] for p in run["points"]), default=math.nan)
                    print(f"seed {args.seed + k} {method}: {run['trials']} trials, best "
                          f"{best:.4f}{' ERROR ' + run['error'] if run.get('error') else ''}",
                          flush=True)
                    saved.write_text(json.dumps(runs, indent=1))
    budget = max(r["budget"] for rs in runs.values() for r in rs)
    seeds = max(len(rs) for rs in runs.values())
    plot(runs, budget, png)
    wall = "" if args.report_only else (f" Wall {(time.perf_counter() - start) / 60:.1f} min"
                                        + (" (the resumed seeds)." if args.resume else "."))
    text = report(runs, args, budget, seeds, wall)
    write_section("Peers: time to quality" + (" (quick)" if args.quick else ""), text)
    print(text)


if __name__ == "__main__":
    main()
