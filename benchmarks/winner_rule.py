"""Which winner rule is least lucky: the first units' mean, the full mean after
intensification, or Ax's model-predicted best (issue 18).

    python benchmarks/winner_rule.py --campaigns 3 --trials 8        # short 1-epoch campaigns
    python benchmarks/winner_rule.py --campaigns 1 --trials 6 --no-write

Each campaign is `gop_debate_demo` with 1-epoch trials, 2 seeds a trial, intensification of
its top trials and a refit of its winner, run through `run_campaign` (campaign seeds 2016,
2017, ...: each its own split). For each rule's winner: the value the rule reports, and the mean
over fresh seeds (never used by the campaign) of the same parameters on the same split. Luck
premium = reported - fresh mean (what `reproduce --seeds` exposes). The refit's test macro F1
(scored by the campaign) is set beside the tuned-split winner's (scored here, not logged).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine_line, write_section  # noqa: E402
from sentiment_core import tags as T  # noqa: E402
from sentiment_core.campaign import Store, best_trial, run_campaign  # noqa: E402
from sentiment_core.campaign.engine.record import eligible  # noqa: E402
from sentiment_core.campaign.engine.scoring import test_metrics  # noqa: E402
from sentiment_core.config import IntensifyConfig, RefitConfig  # noqa: E402
from sentiment_core.data import data_dir, prepare  # noqa: E402
from sentiment_core.experiments import load_experiment  # noqa: E402
from sentiment_core.trial import run_objective  # noqa: E402

RULES = ("first_units", "full_mean", "ax_predicted")
FRESH_SEED = 90_000  # far from every campaign's seeds


def experiment_for(seed: int, top: int, min_units: int, refit_seeds: int):
    exp = load_experiment("gop_debate_demo")
    tuned = {k: v for k, v in exp.space.parameters.items() if k != "num_epochs"}
    space = dataclasses.replace(exp.space, parameters=tuned,
                                fixed={**exp.space.fixed, "num_epochs": 1})
    return dataclasses.replace(
        exp, seed=seed, space=space, intensify=IntensifyConfig(top, min_units),
        refit=RefitConfig(refit_seeds) if refit_seeds else None,
        optimizer=dataclasses.replace(exp.optimizer, initialization_trials=4))


def winners(rows, parent_tags, metric: str) -> dict[str, tuple[dict, float]]:
    """Each rule's winner row and the value it reports."""
    scored = eligible(rows, metric)
    first = max(scored, key=lambda r: r["metrics"].get(f"initial_{metric}",
                                                         r["metrics"][metric]))
    full = best_trial(rows, metric, "maximize")
    by_index = {r["tags"][T.AX_TRIAL_INDEX]: r for r in scored}
    ax = by_index.get(parent_tags.get("ax_predicted_best_trial"), full)
    return {"first_units": (first, first["metrics"].get(f"initial_{metric}",
                                                        first["metrics"][metric])),
            "full_mean": (full, full["metrics"][metric]),
            "ax_predicted": (ax, float(parent_tags.get("ax_predicted_best_value",
                                                       ax["metrics"][metric])))}


def one_campaign(seed: int, args, store: Store) -> dict:
    exp = experiment_for(seed, args.top, args.min_units, args.refit_seeds)
    name = f"winner-rule-{seed}"
    start = time.perf_counter()
    run_campaign(exp, name, args.trials, store, progress=lambda m: print(f"  {m}", flush=True))
    tracker = store.tracker()
    parent = tracker.require_campaign(name)
    rows = tracker.trial_rows(parent.info.run_id)
    data = prepare(exp, store.data_dir, store.cache_dir)
    metric = exp.objective.metric
    from sentiment_core.campaign import Search

    search = Search.open(name, exp.space, exp.objective, exp.optimizer, exp.seed,
                         store.ax_location)
    typed = {str(t["trial_index"]): {**t["params"], **exp.space.fixed}
             for t in search.trials()}
    fresh: dict[str, float] = {}
    out = {"seed": seed, "rules": {}}
    for rule, (row, reported) in winners(rows, parent.data.tags, metric).items():
        index = row["tags"][T.AX_TRIAL_INDEX]
        if index not in fresh:
            result = run_objective(typed[index], data, FRESH_SEED, exp.model.family,
                                   replicates=args.fresh)
            fresh[index] = statistics.fmean(u.metrics[metric] for u in result.units)
        out["rules"][rule] = {"trial": int(index), "reported": reported,
                              "fresh_mean": fresh[index],
                              "premium": reported - fresh[index],
                              "units": int(row["tags"].get(T.INTENSIFIED) or
                                           len(T.trial_tags(row).units))}
    best = best_trial(rows, metric, "maximize")
    tuned = tracker.load_classifier(best["run_id"])
    out["tuned_split_test_macro_f1"] = test_metrics(tuned, data)["test_macro_f1"]
    refit_id = parent.data.tags.get(T.REFIT_RUN_ID)
    if refit_id:
        out["refit_test_macro_f1"] = tracker.client.get_run(refit_id).data.metrics[
            "test_macro_f1"]
    out["wall_s"] = time.perf_counter() - start
    return out


def summary(results: list[dict], args) -> str:
    lines = [f"Command: `python benchmarks/winner_rule.py --campaigns {args.campaigns} "
             f"--trials {args.trials} --top {args.top} --min-units {args.min_units} "
             f"--fresh {args.fresh} --refit-seeds {args.refit_seeds}`", machine_line(),
             "`gop_debate_demo` with 1-epoch trials, 2 seeds a trial, intensify "
             f"(top {args.top}, min_units {args.min_units}); luck premium = the value the rule "
             f"reports - the mean of {args.fresh} fresh seeds of its winner (val macro F1).", "",
             "| rule | premium per campaign | mean premium | winner's fresh mean (mean) |",
             "| --- | --- | --- | --- |"]
    for rule in RULES:
        premiums = [r["rules"][rule]["premium"] for r in results]
        fresh = [r["rules"][rule]["fresh_mean"] for r in results]
        lines.append(f"| {rule} | {', '.join(f'{p:+.4f}' for p in premiums)} | "
                     f"{statistics.fmean(premiums):+.4f} | {statistics.fmean(fresh):.4f} |")
    lines += ["", "| campaign seed | winners (first / full / ax) | tuned-split test macro F1 | "
                  "refit test macro F1 | wall |", "| --- | --- | --- | --- | --- |"]
    for r in results:
        trials = " / ".join(str(r["rules"][k]["trial"]) for k in RULES)
        refit = r.get("refit_test_macro_f1")
        lines.append(f"| {r['seed']} | {trials} | {r['tuned_split_test_macro_f1']:.4f} | "
                     f"{refit:.4f} | {r['wall_s'] / 60:.1f} min |" if refit is not None else
                     f"| {r['seed']} | {trials} | {r['tuned_split_test_macro_f1']:.4f} | - | "
                     f"{r['wall_s'] / 60:.1f} min |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=3)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--top", type=int, default=2)
    parser.add_argument("--min-units", type=int, default=4)
    parser.add_argument("--fresh", type=int, default=5)
    parser.add_argument("--refit-seeds", type=int, default=3)
    parser.add_argument("--store", type=Path, default=Path("/tmp/winner-rule-store"))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "winner_rule.json")
    parser.add_argument("--no-write", action="store_true", help="leave RESULTS.md as it is")
    args = parser.parse_args()
    store = Store(args.store, data_dir())
    results = []
    for c in range(args.campaigns):
        results.append(one_campaign(2016 + c, args, store))
        args.out.write_text(json.dumps(results, indent=1))  # what ran, if time runs out
        print(summary(results, args), flush=True)
    if not args.no_write:
        write_section("Winner rule: luck premium (issue 18)", summary(results, args))


if __name__ == "__main__":
    main()
