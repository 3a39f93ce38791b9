"""Issue 18 item 3: can GloVe vectors or a wide & deep model beat TF-IDF + LR on small data?

One untuned configuration per model (table5_honest's defaults: class weights, early stopping on
validation macro F1), trained with 3 seeds on an experiment's split; each scored on test as the
seeds' ensemble (probabilities averaged) and as mean ± sd of the single seeds, beside TF-IDF +
logistic regression on the same split.

    SENTIMENT_HPO_DATA_DIR=... python -m benchmarks.pretrained_wide [--experiment gop_debate_lstm]
        [--seeds 3] [--only lstm,wide_deep] [--write]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from pathlib import Path

UNTUNED = {"learning_rate": 0.003, "dropout_rate": 0.3, "lstm_units": 32, "neurons_dense": 32,
           "num_epochs": 8, "batch_size": 128, "embedding_size": 128,
           "class_weight": "balanced", "early_stopping_monitor": "val_macro_f1",
           "early_stopping_patience": 2}
GLOVE = {"embedding_init": "glove", "embedding_size": 50}
# (name, family, parameters, GloVe words added to the vocabulary)
CONFIGS = [
    ("lstm", "lstm", UNTUNED, 0),
    ("lstm_glove_trainable", "lstm", {**UNTUNED, **GLOVE, "embedding_trainable": True}, 50000),
    ("lstm_glove_frozen", "lstm", {**UNTUNED, **GLOVE, "embedding_trainable": False}, 50000),
    ("wide_deep", "wide_deep", {**UNTUNED, "wide_l2": 1e-4}, 0),
    ("wide_deep_zeros", "wide_deep", {**UNTUNED, "wide_l2": 1e-4, "wide_init": "zeros"}, 0),
    ("wide_deep_slow", "wide_deep", {**UNTUNED, "wide_l2": 1e-4, "wide_rate": 0.1}, 0),
    ("wide_deep_glove", "wide_deep", {**UNTUNED, **GLOVE, "wide_l2": 1e-4}, 50000),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experiment", default="gop_debate_lstm")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated config names")
    parser.add_argument("--cache", default="/tmp/sentiment-hpo-bench-cache")
    parser.add_argument("--out", default="", help="also append each result as a JSON line here")
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()

    from sentiment_core.data import data_dir, prepare, split_texts
    from sentiment_core.evaluation import classification_metrics
    from sentiment_core.evaluation.baselines import baseline_table
    from sentiment_core.experiments import load_experiment
    from sentiment_core.trial import run_objective

    exp = load_experiment(args.experiment)
    directory = data_dir()
    rows = []

    def record(row):
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.out:
            with open(args.out, "a") as out:
                out.write(json.dumps(row) + "\n")

    plain = prepare(exp, directory, Path(args.cache))
    base = baseline_table(split_texts(exp, directory, plain), plain.class_names, exp.seed)
    lr = base[(base.baseline == "TF-IDF + logistic regression") & (base.split == "test")].iloc[0]
    record({"model": "tfidf_lr", "split": plain.fingerprint, "test_macro_f1": lr.macro_f1,
            "test_roc_auc": lr.roc_auc})
    only = set(filter(None, args.only.split(",")))
    for name, family, params, words in CONFIGS:
        if only and name not in only:
            continue
        data = plain if not words else prepare(dataclasses.replace(
            exp, vectorization=dataclasses.replace(exp.vectorization, pretrained_words=words)),
            directory, Path(args.cache))
        start = time.perf_counter()
        result = run_objective(params, data, exp.seed, family, replicates=args.seeds)
        singles = [classification_metrics(data.y_test, u.model.predict(
            data.x_test, batch_size=1024, verbose=0).reshape(-1)) for u in result.units]
        ensemble = classification_metrics(data.y_test, result.model.predict(
            data.x_test, batch_size=1024, verbose=0).reshape(-1))
        row = {"model": name, "split": plain.fingerprint, "vocabulary": len(data.vocabulary),
               "test_macro_f1": ensemble["macro_f1"], "test_roc_auc": ensemble["roc_auc"],
               "val_macro_f1_mean": result.mean["val_macro_f1"],
               "best_epochs": [u.metrics["best_epoch"] for u in result.units],
               "seconds": round(time.perf_counter() - start)}
        for metric in ("macro_f1", "roc_auc"):
            values = [s[metric] for s in singles]
            row[f"seed_{metric}"] = [round(v, 4) for v in values]
            row[f"seed_{metric}_mean"] = statistics.fmean(values)
            row[f"seed_{metric}_sd"] = statistics.stdev(values) if len(values) > 1 else 0.0
        record(row)
    if args.write:
        from .common import machine_line, write_section

        lines = [f"`python -m benchmarks.pretrained_wide --experiment {args.experiment} "
                 f"--seeds {args.seeds}`; split (data fingerprint) {plain.fingerprint}; "
                 f"{machine_line()}", "",
                 "| model | test macro-F1, ensemble | seeds: mean ± sd | test ROC AUC, ensemble "
                 "| seeds: mean ± sd |", "|---|---|---|---|---|"]
        for r in rows:
            if r["model"] == "tfidf_lr":
                lines.append(f"| TF-IDF + LR | {r['test_macro_f1']:.3f} | | "
                             f"{r['test_roc_auc']:.3f} | |")
                continue
            lines.append(f"| {r['model']} | {r['test_macro_f1']:.3f} | "
                         f"{r['seed_macro_f1_mean']:.3f} ± {r['seed_macro_f1_sd']:.3f} | "
                         f"{r['test_roc_auc']:.3f} | {r['seed_roc_auc_mean']:.3f} ± "
                         f"{r['seed_roc_auc_sd']:.3f} |")
        write_section(f"Pretrained vectors and wide & deep ({args.experiment})", "\n".join(lines))


if __name__ == "__main__":
    main()
