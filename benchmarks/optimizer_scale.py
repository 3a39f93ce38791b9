"""Benchmark (not a test): Ax's ask + tell latency as a campaign grows, and the trials per hour
that allows N parallel workers.

    PYTHONPATH=. python -m benchmarks.optimizer_scale            # 10..300 completed, ~8 min
    PYTHONPATH=. python -m benchmarks.optimizer_scale --quick    # 10 and 25, no batch, < 1 min

No training: the campaign's own `Search` adapter (Ax `Client`, sqlite storage as in a store) on
`table5_quick`'s seven parameters, with a synthetic noisy objective (a smooth bump plus noise,
told as mean and standard error like a replicated trial). At each size n (completed trials),
the experiment is first filled to n with random points (attached and completed, storage off
while filling: setup, not measured), then `--repeats` ask(1) + tell pairs are timed with
storage on, for two generation strategies kept side by side on the same experiment:

- full: Ax's own (`fast`: Center, Sobol, BoTorch with Ax's acquisition optimizer defaults);
- lean: the same past `optimizer.lean_after` (search.py `LEAN_ACQUISITION`, forced on here).

Also one batched ask of k = 4 against 4 single asks (the loop asks for one candidate per free
worker). The ceiling: a driver that spends c = ask + tell seconds per trial serves at most
3600 / c trials an hour; N workers on trials of T seconds want 3600 N / T; the driver is the
bottleneck from N* = T / c workers. Writes the section "Optimizer at scale" (or "... (quick)")
of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FULL, QUICK = (10, 25, 50, 100, 200, 300), (10, 25)
TRIAL_SECONDS = (20, 60, 300)
METRIC = "val_macro_f1"


def space():
    import yaml

    from sentiment_core.config import parse_search_space

    path = ROOT / "search_spaces" / "table5_quick.yaml"
    return parse_search_space(yaml.safe_load(path.read_text()), str(path))


class Objective:
    """A macro-F1-like bump over the seven parameters (best near lr 0.007, dropout 0.2, 16
    units), noise sd 0.01, told with that standard error. Its own generator: nothing global."""

    def __init__(self, seed: int = 0):
        self.rng = random.Random(seed)

    def __call__(self, p: dict) -> tuple[float, float]:
        value = (0.72 - 0.02 * math.log(p["learning_rate"] / 0.007) ** 2
                 - 0.1 * (p["dropout_rate"] - 0.2) ** 2 - 1e-4 * (p["lstm_units"] - 16) ** 2
                 - 5e-5 * (p["neurons_dense"] - 12) ** 2 - 0.01 * (p["num_epochs"] - 2) ** 2
                 - 0.005 * math.log(p["batch_size"] / 256) ** 2
                 - 0.003 * math.log(p["embedding_size"] / 64) ** 2)
        return value + self.rng.gauss(0, 0.01), 0.01

    def point(self, spec) -> dict:
        p = {}
        for name, s in spec.parameters.items():
            low, high = s.bounds
            v = (math.exp(self.rng.uniform(math.log(low), math.log(high))) if s.log_scale
                 else self.rng.uniform(low, high))
            p[name] = int(round(v)) if s.type == "int" else v
        return p


def fill(search, objective: Objective, spec, n: int) -> None:
    """Attach and complete random points until n trials are completed (setup: storage off,
    one save at the end, so the fill does not dominate the run)."""
    client = search.client
    db, client._db_settings = client._db_settings, None
    try:
        while completed(search) < n:
            index = client.attach_trial(parameters=objective.point(spec))
            client.complete_trial(trial_index=index, raw_data={METRIC: objective(
                client._experiment.trials[index].arm.parameters)})
    finally:
        client._db_settings = db
    client._save_experiment_to_db_if_possible(experiment=client._experiment)


def completed(search) -> int:
    return sum(t.status.is_completed for t in search.client._experiment.trials.values())


def timed_pair(search, objective: Objective, count: int = 1) -> dict:
    start = time.perf_counter()
    asked = search.ask(count)
    ask_s = time.perf_counter() - start
    start = time.perf_counter()
    for index, params in asked.items():
        search.tell(index, {METRIC: objective(params)})
    tell_s = (time.perf_counter() - start) / max(len(asked), 1)
    generation = search.generation_of(next(iter(asked))) if asked else "none"
    node = search.client._generation_strategy.current_node_name
    return {"ask_s": ask_s, "tell_s": tell_s, "asked": len(asked), "generation": generation,
            "node": node}


def run(sizes, repeats: int, batch_at: tuple[int, ...], work: Path) -> dict:
    from sentiment_core.campaign.store import search as search_module
    from sentiment_core.config import ObjectiveConfig, OptimizerConfig

    spec = space()
    objective = Objective(0)
    opened = time.perf_counter()
    search = search_module.Search.open(
        "scale", spec, ObjectiveConfig(metric=METRIC, replicates=2),
        OptimizerConfig(lean_after=0), 0, work / "ax.db")
    open_s = time.perf_counter() - opened
    client = search.client
    # the lean strategy from a fresh copy of Ax's: the two must not share nodes
    fresh = client._choose_generation_strategy(method="fast", initialization_budget=5,
                                               initialization_random_seed=0)
    strategies = {"full": client._generation_strategy,
                  "lean": search_module._with_lean_node(fresh, 1)}
    rows = []
    fill(search, objective, spec, sizes[0])
    node = {"full": "MBM", "lean": search_module.LEAN_NODE}
    for mode, strategy in strategies.items():  # past Center and Sobol (untimed)
        client.set_generation_strategy(strategy)
        for _ in range(8):
            if timed_pair(search, objective)["node"] == node[mode]:
                break
    for n in sizes:
        fill(search, objective, spec, n)
        for mode, strategy in strategies.items():
            client.set_generation_strategy(strategy)
            for r in range(repeats):
                row = {"size": n, "n": completed(search), "mode": mode, "k": 1,
                       **timed_pair(search, objective)}
                rows.append(row)
                print(f"n={row['n']:>3} {mode:>4}: ask {row['ask_s']:.2f} s, tell "
                      f"{row['tell_s']:.2f} s ({row['node']})", flush=True)
            if n in batch_at:
                row = {"size": n, "n": completed(search), "mode": mode, "k": 4,
                       **timed_pair(search, objective, 4)}
                rows.append(row)
                print(f"n={row['n']:>3} {mode:>4}: ask(4) {row['ask_s']:.2f} s for "
                      f"{row['asked']}", flush=True)
    return {"rows": rows, "open_s": open_s}


def summarize(rows: list[dict], sizes) -> list[dict]:
    out = []
    for n in sizes:
        for mode in ("full", "lean"):
            single = [r for r in rows if r["mode"] == mode and r["k"] == 1 and r["size"] == n]
            if not single:
                continue
            ask = statistics.median(r["ask_s"] for r in single)
            tell = statistics.median(r["tell_s"] for r in single)
            batch = [r for r in rows if r["mode"] == mode and r["k"] == 4 and r["size"] == n]
            out.append({"size": n, "n": single[0]["n"], "mode": mode, "ask_s": ask, "tell_s": tell,
                        "batch4_s": batch[0]["ask_s"] if batch else None,
                        "batch4_asked": batch[0]["asked"] if batch else None})
    return out


def markdown(summary: list[dict], meta: dict, quick: bool) -> str:
    from benchmarks.common import machine_line

    lines = [f"`{meta['command']}` ({meta['wall_s']:.0f} s)", "",
             f"Machine: {machine_line()}; torch {meta['torch']}, botorch {meta['botorch']}; "
             f"1-minute load average {meta['load'][0]:.1f} at the start, "
             f"{meta['load'][1]:.1f} at the end. "
             f"{meta['repeats']} ask + tell pairs per size and strategy (median), sqlite "
             "storage on, synthetic objective (no training); opening the search (Ax import, "
             f"tables) {meta['open_s']:.1f} s once.", "",
             "| completed trials | strategy | ask s | tell s | ask + tell s | 4 asks in one "
             "call s | ceiling trials/h | driver-bound from N = (T = "
             + " / ".join(f"{t} s" for t in TRIAL_SECONDS) + ") |",
             "|---|---|---|---|---|---|---|---|"]
    for row in summary:
        cost = row["ask_s"] + row["tell_s"]
        batch = (f"{row['batch4_s']:.2f} ({row['batch4_asked']} given; "
                 f"{row['batch4_s'] / (4 * row['ask_s']):.2f}× four single asks)"
                 if row["batch4_s"] is not None else "")
        bound = " / ".join(f"{t / cost:.0f}" for t in TRIAL_SECONDS)
        lines.append(f"| {row['n']} | {row['mode']} | {row['ask_s']:.2f} | {row['tell_s']:.2f}"
                     f" | {cost:.2f} | {batch} | {3600 / cost:,.0f} | {bound} |")
    full = {r["size"]: r for r in summary if r["mode"] == "full"}
    lean = {r["size"]: r for r in summary if r["mode"] == "lean"}
    ratios = [lean[n]["ask_s"] / full[n]["ask_s"] for n in full if n in lean]
    lines += ["", "Ceiling = 3600 / (ask + tell): the trials an hour one driver can hand out "
              "and take back; N workers on T-second trials ask for 3600 N / T, so from "
              "N = T / (ask + tell) the driver, not the workers, sets the pace (with prefetch "
              "and one worker the ask hides behind the trial; with N workers it does not)."]
    if ratios:
        lines.append(f"Lean / full ask time: median {statistics.median(ratios):.2f} "
                     f"(range {min(ratios):.2f}-{max(ratios):.2f}) over the sizes above.")
    if quick:
        lines.append("Quick run: two sizes, one pair each; the full run covers 10 to 300.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 and 25 trials, one pair each")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--no-write", action="store_true", help="print, leave RESULTS.md")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    repeats = args.repeats or (1 if args.quick else 2)
    start, load = time.perf_counter(), os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="optimizer-scale-") as work:
        result = run(sizes, repeats, () if args.quick else (50, 200), Path(work))
    import botorch
    import torch

    meta = {"command": "python -m benchmarks.optimizer_scale" + (" --quick" if args.quick
                                                                  else ""),
            "wall_s": time.perf_counter() - start, "repeats": repeats,
            "open_s": result["open_s"], "torch": torch.__version__,
            "botorch": botorch.__version__, "load": (load, os.getloadavg()[0])}
    text = markdown(summarize(result["rows"], sizes), meta, args.quick)
    print(text)
    if not args.no_write:
        from benchmarks.common import write_section

        write_section("Optimizer at scale" + (" (quick)" if args.quick else ""), text)


if __name__ == "__main__":
    main()
