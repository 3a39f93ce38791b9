"""A campaign's winner and TF-IDF + LR on the test split, per row and per distinct tweet (for
campaigns run before the platform logged `test_tweets_*` itself).

    python -m benchmarks.distinct_test --store S --experiment gop_debate_wide CAMPAIGN [...]

The leak-free split keeps a tweet and its copies (retweets, near-copies: one duplicate group)
on one side, so a test split can hold a few tweets repeated a hundred times: on the GOP file's
seed-2016 split, five tweets are 26% of the test rows, and a per-row score there mostly says
whether a model gets those five right. Here each group counts once (`one_per_group`), beside
the per-row scores. Both models are scored at 0.5 and at their validation-chosen threshold
(the baseline's `choose_tfidf`; the model's stored one).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from sentiment_core import tags as T
from sentiment_core.campaign import Store
from sentiment_core.data import data_dir, prepare, split_texts
from sentiment_core.evaluation import classification_metrics, one_per_group
from sentiment_core.evaluation.baselines import choose_tfidf
from sentiment_core.experiments import load_experiment


def scores(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    at_half, at_val = classification_metrics(y, p), classification_metrics(y, p, threshold)
    return {"macro_f1@0.5": at_half["macro_f1"], "macro_f1@val": at_val["macro_f1"],
            "roc_auc": at_half["roc_auc"]}


def campaign_rows(store: Store, experiment, campaign: str) -> list[dict]:
    tracker = store.tracker()
    parent = tracker.find_campaign(campaign)
    seed = int(parent.data.params["seed"])
    exp = dataclasses.replace(load_experiment(experiment), seed=seed)  # its seed, its split
    data = prepare(exp, store.data_dir, store.cache_dir)
    texts = split_texts(exp, store.data_dir, data)
    test = texts["test"]
    winner = tracker.load_classifier(parent.data.tags[T.TEST_SCORED_RUN_ID])
    models = {"winner": (winner.predict_ids(data.x_test).reshape(len(test), -1)[:, -1],
                         winner.threshold)}
    chosen = choose_tfidf(texts, 2, seed)
    models["TF-IDF + LR"] = (chosen.proba["test"], chosen.threshold)
    keep, y_group = one_per_group(test["key"].to_numpy(), test["label"].to_numpy())
    sizes = test["key"].value_counts()
    rows = []
    for name, (p, threshold) in models.items():
        for unit, y, q in (("rows", test["label"].to_numpy(), p), ("tweets", y_group, p[keep])):
            rows.append({"campaign": campaign, "seed": seed, "model": name, "unit": unit,
                         "n": len(y), **scores(y, q, threshold)})
    top5 = sizes.head(5)
    print(f"{campaign}: {len(test)} test rows, {len(sizes)} groups; the 5 largest groups hold "
          f"{top5.sum()} rows ({top5.sum() / len(test):.0%}): {', '.join(map(str, top5))}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--experiment", required=True, help="the campaigns' experiment YAML")
    parser.add_argument("campaigns", nargs="+")
    args = parser.parse_args()
    store = Store(args.store, data_dir=data_dir())
    rows = [r for c in args.campaigns for r in campaign_rows(store, args.experiment, c)]
    table = pd.DataFrame(rows)
    print(table.to_markdown(index=False, floatfmt=".4f"))


if __name__ == "__main__":
    main()
