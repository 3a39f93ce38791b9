"""RESULTS.md from the store: per experiment (and variant, and stage) our best validation and test
figures beside the baselines on the same test rows and the seed's reported figure.

    text = write_results(store, Path("experiments"))        # markdown
    sentiment-hpo --store mlruns results --out experiments/RESULTS.md

Everything is read from MLflow: each experiment's latest finished campaign (its best trial's
validation metrics, with the spread over folds / seeds where the objective has them; the winner's
test metrics, scored once; `baselines.json` metrics logged by the campaign), its stage runs, and
the campaign's wall time and budget. The seed's figure comes from the experiment YAML's
`reference` block. Nothing is trained or re-scored here.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ... import tags as T
from ...config import ExperimentConfig, ReferenceConfig
from ...experiments import load_experiment, load_variants
from ..store.paths import Store
from ..store.tracking import Tracker
from .stages import latest_stage_runs

BASELINES = (("vader", "VADER"), ("tfidf_logreg", "TF-IDF + LR"))
# `tweets_macro_f1`: each distinct test text once (a split can hold one tweet a hundred times)
TEST_METRICS = ("accuracy", "macro_f1", "roc_auc", "tweets_macro_f1")


@dataclass
class Row:
    experiment: str
    label: str  # experiment, experiment-variant, or "  stage <name>"
    data: str
    family: str
    campaign: str = ""
    objective: str = ""
    best: float | None = None
    best_sd: float | None = None
    units: int = 1
    val: dict[str, float] = field(default_factory=dict)
    test: dict[str, float] = field(default_factory=dict)
    baselines: dict[str, dict[str, float]] = field(default_factory=dict)
    reference: ReferenceConfig | None = None
    budget: str = ""
    wall_s: float | None = None
    test_rows: int | None = None
    test_tweets: int | None = None  # distinct texts among the test rows (duplicates once)


def experiments_in(folder: Path) -> list[tuple[str, ExperimentConfig]]:
    """(file stem, experiment) for every YAML, each variant listed as its own experiment."""
    out = []
    for path in sorted(folder.glob("*.yaml")):
        variants = load_variants(path)
        if variants:
            out += [(path.stem, v) for v in variants.values()]
        else:
            out.append((path.stem, load_experiment(path)))
    return out


def latest_campaign(tracker: Tracker, experiment_name: str):
    found = tracker.client.get_experiment_by_name(experiment_name)
    if found is None:
        return None
    runs = tracker.client.search_runs(
        [found.experiment_id], filter_string="tags.kind = 'campaign' and "
                                             "attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"], max_results=1)
    return runs[0] if runs else None


def collect(store: Store, folder: Path) -> tuple[list[Row], list[str]]:
    tracker = store.tracker()
    rows, missing = [], []
    for stem, experiment in experiments_in(folder):
        run = latest_campaign(tracker, experiment.name)
        if run is None:
            missing.append(experiment.name)
            continue
        rows.append(_campaign_row(tracker, stem, experiment, run))
        stage_runs = latest_stage_runs(tracker.trial_rows(run.info.run_id))
        for stage in experiment.stages:
            if stage.name in stage_runs:
                rows.append(_stage_row(stem, experiment, stage, stage_runs[stage.name]))
    return rows, missing


def _campaign_row(tracker: Tracker, stem: str, experiment: ExperimentConfig, run) -> Row:
    tags, metrics, params = run.data.tags, run.data.metrics, run.data.params
    typed = T.CampaignTags.of(tags)
    metric = typed.objective or experiment.objective.metric
    best_run = (tracker.client.get_run(typed.best_run_id).data.metrics
                if typed.best_run_id else {})
    folds, replicates = typed.folds, typed.replicates
    units = folds * replicates
    space = yaml.safe_load(tracker.read_text(run.info.run_id, "search_space.yaml")) or {}
    completed = int(metrics.get("completed_trials", 0))
    budget = f"{completed} trials, {_epochs(space)} epochs"
    if units > 1:
        budget += f", {units} units/trial ({folds} fold × {replicates} seed)"
    children = tracker.trial_rows(run.info.run_id)
    current = [r for r in children if T.trial_tags(r).source == T.FROM_CAMPAIGN]
    current += list(latest_stage_runs(children).values())
    wall = sum(((r["end_ms"] or r["start_ms"]) - r["start_ms"]) / 1000 for r in current)
    return Row(
        experiment=stem, label=experiment.name, data=experiment.data.describe(),
        family=experiment.model.family, campaign=typed.name, objective=metric,
        best=best_run.get(metric), best_sd=best_run.get(f"{metric}_sd") if units > 1 else None,
        units=units, val={k: best_run.get(f"val_{k}") for k in ("accuracy", "macro_f1")},
        test={k: metrics.get(f"test_{k}") for k in TEST_METRICS},
        baselines=_baselines(metrics), reference=experiment.reference, budget=budget,
        wall_s=wall,
        test_rows=int(float(params["test_rows"])) if "test_rows" in params else None,
        test_tweets=int(metrics["test_tweets_count"]) if "test_tweets_count" in metrics else None)


def _stage_row(stem: str, experiment: ExperimentConfig, stage, run: dict[str, Any]) -> Row:
    metrics = run["metrics"]
    epochs = int(metrics.get("epochs_run", 0))
    return Row(
        experiment=stem, label=f"{experiment.name} / stage {stage.name}",
        data=run["tags"].get("data", ""), family=f"{experiment.model.family} (fine-tuned, "
                                                 f"frozen: {run['tags'].get('freeze') or '-'})",
        objective="val_accuracy", best=metrics.get("val_accuracy"),
        val={k: metrics.get(f"val_{k}") for k in ("accuracy", "macro_f1")},
        test={k: metrics.get(f"test_{k}") for k in TEST_METRICS},
        baselines=_baselines(metrics), reference=stage.reference,
        budget=f"1 run, {epochs} of ≤{run['params'].get('num_epochs', '?')} epochs "
               f"(lr {float(run['params'].get('learning_rate', 0)):.2g})",
        wall_s=((run["end_ms"] or run["start_ms"]) - run["start_ms"]) / 1000,
        test_rows=int(metrics["test_rows"]) if "test_rows" in metrics else None)


def _epochs(space: dict[str, Any]) -> str:
    tuned = (space.get("parameters") or {}).get("num_epochs")
    if tuned and tuned.get("bounds"):
        return f"≤{int(tuned['bounds'][1])}"
    if tuned and tuned.get("values"):
        return f"≤{max(tuned['values'])}"
    fixed = (space.get("fixed") or {}).get("num_epochs")
    return f"≤{fixed}" if fixed is not None else "?"


def _baselines(metrics: dict[str, float]) -> dict[str, dict[str, float]]:
    return {slug: {k: metrics.get(f"baseline_{slug}_test_{k}")
                   for k in ("accuracy", "macro_f1", "tweets_macro_f1")}
            for slug, _ in BASELINES}


# ---- markdown ----------------------------------------------------------------------------------


def _f(value: float | None, sd: float | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.3f} ± {sd:.3f}" if sd is not None else f"{value:.3f}"


def _wall(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _signed(value: float) -> str:
    text = f"{value:+.3f}"
    return "±0.000" if text in ("+0.000", "-0.000") else text


def _ours_on(row: Row, metric: str) -> float | None:
    split, _, name = metric.partition("_")
    return (row.val if split == "val" else row.test).get(name)


def sentence(row: Row) -> str:
    """How our figure compares with the seed's and with the baselines on the same rows."""
    parts = []
    ref = row.reference
    if ref is not None:
        ours = _ours_on(row, ref.metric)
        if ours is not None:
            parts.append(f"our {ref.metric.replace('_', ' ')} {ours:.3f} vs seed {ref.seed}'s "
                         f"{ref.value:.3f} ({_signed(ours - ref.value)})"
                         + (f": {ref.note}" if ref.note else ""))
    test = row.test.get("macro_f1")
    vader, tfidf = (row.baselines.get(s, {}).get("macro_f1") for s, _ in BASELINES)
    if test is not None and vader is not None and tfidf is not None:
        parts.append(f"on our test rows macro F1 {test:.3f} is {_signed(test - vader)} against "
                     f"VADER and {_signed(test - tfidf)} against TF-IDF + LR")
    tweets = row.test.get("tweets_macro_f1")
    tfidf_tweets = row.baselines.get("tfidf_logreg", {}).get("tweets_macro_f1")
    if (tweets is not None and tfidf_tweets is not None and row.test_rows
            and row.test_tweets and row.test_tweets < row.test_rows):
        parts.append(f"counting each of its {row.test_tweets} distinct texts once, {tweets:.3f} "
                     f"({_signed(tweets - tfidf_tweets)} against TF-IDF + LR)")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "." if text else ""


def render(rows: list[Row], missing: list[str], store: Store) -> str:
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [
        "# Results: every seed's system as an experiment",
        "",
        f"Generated {stamp} by `sentiment-hpo --store {store.path} results --out "
        "experiments/RESULTS.md` from the store alone (MLflow runs: each experiment's latest "
        "finished campaign, its stage runs and the baselines it logged). Do not edit by hand.",
        "",
        "- **best val**: the winning trial's objective on the validation split (mean ± sd over "
        "the objective's folds × seeds where it has several); **val acc / val F1**: its "
        "accuracy and macro F1 there.",
        "- **test**: the winner scored once on the held-out test split (accuracy, macro F1); "
        "VADER and TF-IDF + LR (fitted on the same train split) on the same test rows; "
        "**test F1, each text once**: macro F1 counting each distinct test text once (a "
        "tweet's copies share the split and one label), ours / TF-IDF + LR's.",
        "- **seed**: the figure the seed document reports, on its own data (see the notes: "
        "usually not the same data, so a comparison of setting, not a contest).",
        "- **budget / wall**: completed trials and epoch limit; wall time summed over the "
        "campaign's trial runs (and its current stage runs) on the 2-core CPU machine shared "
        "with other jobs; data preparation, Ax and the baselines add 10-60 s per campaign.",
        "",
        "| experiment | data | family | objective | best val | val acc | val F1 | test acc | "
        "test F1 | test F1, each text once | VADER acc / F1 | TF-IDF+LR acc / F1 | seed | budget | "
        "wall |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        b = {slug: r.baselines.get(slug, {}) for slug, _ in BASELINES}
        seed = (f"{r.reference.value:.3f} {r.reference.metric.replace('_', ' ')} "
                f"(seed {r.reference.seed})" if r.reference else "–")
        lines.append(
            f"| {r.label} | {r.data} | {r.family} | {r.objective} | {_f(r.best, r.best_sd)} | "
            f"{_f(r.val.get('accuracy'))} | {_f(r.val.get('macro_f1'))} | "
            f"{_f(r.test.get('accuracy'))} | {_f(r.test.get('macro_f1'))} | "
            f"{_f(r.test.get('tweets_macro_f1'))} / {_f(b['tfidf_logreg'].get('tweets_macro_f1'))}"
            " | "
            f"{_f(b['vader'].get('accuracy'))} / {_f(b['vader'].get('macro_f1'))} | "
            f"{_f(b['tfidf_logreg'].get('accuracy'))} / {_f(b['tfidf_logreg'].get('macro_f1'))}"
            f" | {seed} | {r.budget} | {_wall(r.wall_s)} |")
    campaigns = [r for r in rows if r.campaign]
    total = sum(r.wall_s or 0 for r in campaigns)
    lines += ["", f"{len(campaigns)} campaigns, {_wall(total)} of trial wall time in all."]
    lines += ["", "## The differences, one sentence each", ""]
    for r in rows:
        text = sentence(r)
        if text:
            lines.append(f"- **{r.label}** ({r.test_rows or '?'} test rows): {text}")
    if missing:
        lines += ["", "## Not run in this store", "",
                  ", ".join(f"`{name}`" for name in missing)]
    return "\n".join(lines) + "\n"


def write_results(store: Store, folder: Path, out: Path | None = None) -> str:
    rows, missing = collect(store, folder)
    text = render(rows, missing, store)
    if out is not None:
        out.write_text(text, encoding="utf-8")
    return text


def results_table(store: Store, folder: Path) -> list[Row]:
    return collect(store, folder)[0]
