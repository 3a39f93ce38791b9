"""Benchmark (not a test): where a campaign's wall time goes, for short (~5 s) and medium
(~30 s) trials: training (build, fit, evaluate) against the platform's overhead (Ax generation
and saves, MLflow logging, figures, the logged model, tables, data preparation, start-up).

    SENTIMENT_HPO_DATA_DIR=../shared/data python -m benchmarks.overhead [--quick]

The campaign runs unchanged (inline executor, Bayesian strategy, GOP debate tweets); the
adapters' methods are wrapped with timers from outside, so the figures measure the code as it
ships. Time inside a wrapped call made during another (nested) is counted once, in the outer.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import machine_line, write_section

ROOT = Path(__file__).resolve().parents[1]
# what each wrapped method's time is counted as
PHASES = {
    ("search", "Search", "open"): "Ax: open/create",
    ("search", "Search", "ask"): "Ax: generate candidates",
    ("search", "Search", "tell"): "Ax: tell + save",
    ("search", "Search", "fail"): "Ax: tell + save",
    ("search", "Search", "abandon"): "Ax: tell + save",
    ("search", "Search", "predicted_best"): "Ax: model's predicted best",
    ("tracking", "Tracker", "start_campaign"): "MLflow: runs, params, tags",
    ("tracking", "Tracker", "start_trial"): "MLflow: runs, params, tags",
    ("tracking", "Tracker", "set_tags"): "MLflow: runs, params, tags",
    ("tracking", "Tracker", "end_run"): "MLflow: runs, params, tags",
    ("tracking", "Tracker", "log_metrics"): "MLflow: metrics",
    ("tracking", "Tracker", "trial_rows"): "MLflow: search runs (tables)",
    ("tracking", "Tracker", "log_files"): "MLflow: artifacts (figures, tables, config)",
    ("tracking", "Tracker", "log_classifier"): "MLflow: model logging",
    ("tracking", "Tracker", "load_classifier"): "winner's test score + baselines",
    ("plots", None, "learning_curves"): "figures: rendering",
    ("plots", None, "confusion_matrix"): "figures: rendering",
    ("plots", None, "roc"): "figures: rendering",
    ("lifecycle", None, "prepare"): "data: prepare (cache)",
    ("lifecycle", None, "log_baselines"): "winner's test score + baselines",
    ("lifecycle", None, "score_winner"): "winner's test score + baselines",
    ("search", "Search", "exists"): "Ax: open/create",
    ("search", "Search", "phase"): "Ax: phase check",
    ("search", "Search", "generation_of"): "Ax: trial lookups",
    ("search", "Search", "trials"): "Ax: trial lookups",
    ("scheduler", "Scheduler", "_await_prefetch"): "waiting for Ax's next candidate",
    ("scheduler", "Scheduler", "_report"): "progress lines",
    ("tracking", "Tracker", "find_campaign"): "MLflow: runs, params, tags",
    ("store", "Store", "tracker"): "MLflow: open store",
    ("lifecycle", None, "git_commit"): "git commit of the code",
    ("lifecycle", None, "data_tags"): "data file sha256 (tags)",
    ("background", "BackgroundWriter", "drain"): "waiting for background writes",
    ("worker", None, "device_info"): "device info per trial",
    ("worker", None, "reset_gpu_peak"): "TensorFlow import (first trial) + device checks",
    ("inline", None, "run_objective"): "trial: build + fit + evaluate",
}
SPACES = {  # the Table 5 space with the epochs fixed: short and medium trials on 2 cores
    "short": {"num_epochs": 1, "batch_size": 512},
    "medium": {"num_epochs": 8, "batch_size": 256},
}


class Profile:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = collections.defaultdict(float)  # the campaign thread
        self.background: dict[str, float] = collections.defaultdict(float)  # writer, asker
        self.depth = 0

    def wrap(self, owner, attribute: str, phase: str) -> None:
        original = getattr(owner, attribute)
        profile = self

        def timed(*args, **kwargs):
            if threading.current_thread() is not threading.main_thread():
                start = time.perf_counter()  # overlapped with training: off the path
                try:
                    return original(*args, **kwargs)
                finally:
                    profile.background[phase] += time.perf_counter() - start
            if profile.depth:
                return original(*args, **kwargs)
            profile.depth += 1
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                profile.seconds[phase] += time.perf_counter() - start
                profile.depth -= 1

        setattr(owner, attribute, timed)


def instrument(profile: Profile) -> None:
    from sentiment_core.campaign.engine import background, lifecycle, scheduler
    from sentiment_core.campaign.execution import inline, worker
    from sentiment_core.campaign.store import paths, search, tracking
    from sentiment_core.evaluation import plots

    modules = {"search": search, "tracking": tracking, "plots": plots, "lifecycle": lifecycle,
               "scheduler": scheduler, "inline": inline, "worker": worker,
               "background": background, "store": paths}
    for (module, cls, attribute), phase in PHASES.items():
        owner = getattr(modules[module], cls) if cls else modules[module]
        profile.wrap(owner, attribute, phase)


def experiment(kind: str, trials: int):
    from sentiment_core.config import parse_search_space, to_dict
    from sentiment_core.experiments import load_experiment

    exp = load_experiment("gop_debate_lstm")
    space = to_dict(exp.space)
    space["parameters"] = {k: v for k, v in space["parameters"].items()
                           if k not in SPACES[kind]}
    space["fixed"] = {**space["fixed"], **SPACES[kind], "early_stopping_patience": 0}
    objective = dataclasses.replace(exp.objective, replicates=1)
    # intensify's extra seeds and the refit are training the campaign asks for, not overhead:
    # off, so that every campaign's trials are the same kind of work
    return dataclasses.replace(
        exp, space=parse_search_space(space, f"benchmarks/overhead.py ({kind})"),
        objective=objective, budget=dataclasses.replace(exp.budget, trials=trials),
        intensify=None, refit=None)


def measure(kind: str, trials: int, store_dir: Path) -> tuple[dict[str, float], float, int]:
    from sentiment_core.campaign import Store, run_campaign

    profile = Profile()
    instrument(profile)
    data_dir = Path(os.environ.get("SENTIMENT_HPO_DATA_DIR", ROOT / "data"))
    store = Store(store_dir, data_dir)
    start = time.perf_counter()
    summary = run_campaign(experiment(kind, trials), f"overhead-{kind}", trials, store,
                           progress=lambda m: None)
    wall = time.perf_counter() - start
    return dict(profile.seconds), dict(profile.background), wall, summary.completed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 short trials only")
    parser.add_argument("--kind", choices=list(SPACES), help="one kind only (a subprocess)")
    parser.add_argument("--trials", type=int)
    parser.add_argument("--store", type=Path)
    args = parser.parse_args()
    if args.kind:  # one campaign in a fresh process: the wrappers never stack
        seconds, background, wall, completed = measure(args.kind, args.trials, args.store)
        print(repr({"seconds": seconds, "background": background, "wall": wall,
                    "completed": completed}))
        return
    import ast
    import subprocess

    # quick: short trials alone (the medium ones are 2 minutes of bench-quick's 10)
    trials = {"short": 5} if args.quick else {"short": 12, "medium": 8}
    command = "python -m benchmarks.overhead" + (" --quick" if args.quick else "")
    sections = []
    with tempfile.TemporaryDirectory(prefix="hpo-overhead-") as tmp:
        from sentiment_core.campaign import Store
        from sentiment_core.data import prepare

        data_dir = Path(os.environ.get("SENTIMENT_HPO_DATA_DIR", ROOT / "data"))
        # the store and the data cache exist already, as for any campaign after the first
        prepare(experiment("short", 1), data_dir, Path(tmp) / "cache")
        Store(Path(tmp), data_dir).tracker()
        for kind in trials:
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.overhead", "--kind", kind, "--trials",
                 str(trials[kind]), "--store", tmp], cwd=ROOT, capture_output=True, text=True,
                check=True, env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
            result = ast.literal_eval(out.strip().splitlines()[-1])
            sections.append((kind, result))
            print(kind, result, flush=True)
    lines = []
    for kind, r in sections:
        wall, seconds = r["wall"], r["seconds"]
        trial = seconds.get("trial: build + fit + evaluate", 0.0)
        counted = sum(seconds.values())
        rows = sorted(((p, s) for p, s in seconds.items()), key=lambda x: -x[1])
        rows.append(("rest (loop, progress, start-up, imports)", wall - counted))
        per_trial = trial / max(r["completed"], 1)
        overhead = wall - trial
        in_loop = overhead - seconds.get("data: prepare (cache)", 0) - seconds.get(
            "Ax: open/create", 0) - seconds.get("winner's test score + baselines", 0)
        lines.append(f"**{kind} trials** ({r['completed']} trials, {per_trial:.1f} s of training "
                     f"each; campaign wall {wall:.1f} s): overhead **{100 * overhead / wall:.1f}%"
                     f"** of the wall time; per-trial overhead (everything but the once-per-"
                     f"campaign start and end) {100 * in_loop / wall:.1f}%.\n")
        lines.append("| where | s | % of wall |\n| --- | --- | --- |")
        lines += [f"| {p} | {s:.2f} | {100 * s / wall:.1f}% |" for p, s in rows]
        lines += [f"| *off the path (background thread, overlapped with training):* {p} | "
                  f"*{s:.2f}* | |" for p, s in sorted(r["background"].items(), key=lambda x: -x[1])]
        lines.append("")
    write_section("Overhead budget" + (" (quick)" if args.quick else ""), f"""
{machine_line()}. Command: `{command}`.

One campaign per trial length in a fresh process (Bayesian strategy, inline executor, the GOP
debate tweets, data already cached), its adapters' calls timed from outside. Overhead = campaign
wall time - time inside the trials (build + fit + evaluate).

{chr(10).join(lines)}
""")
    print(f"wrote benchmarks/RESULTS.md ({command})")


if __name__ == "__main__":
    sys.exit(main())
