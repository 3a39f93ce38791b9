"""A campaign's evaluation: metrics at two thresholds, baselines, error analysis, the election
table, and the self-contained HTML report that gathers them with Table 5 and the plots.

    ctx = open_campaign(store, "gop-20")
    path = write_report(ctx, Path("reports"))     # reports/gop-20/report.html, logged to MLflow
"""

from __future__ import annotations

import base64
import html
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy.stats import spearmanr

from . import plots
from .analysis import error_analysis
from .baselines import baseline_table
from .store import Store
from .config import ExperimentConfig, experiment_from_dict
from .data import PreparedData, load_labeled, prepare, split_texts
from .election import candidates_by_keywords, election_table
from .errors import InputError
from .metrics import evaluation, flat_metrics, optimal_threshold, predictions
from .predictor import TextClassifier
from .reports import best_row, format_table, table5
from .tracking import Tracker


@dataclass
class CampaignContext:
    name: str
    store: Store
    tracker: Tracker
    parent: Any  # the MLflow parent run
    experiment: ExperimentConfig
    rows: list[dict[str, Any]]
    best: dict[str, Any]
    data: PreparedData
    classifier: TextClassifier
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def metric(self) -> str:
        return self.experiment.objective.metric

    def texts(self) -> dict[str, pd.DataFrame]:
        if "texts" not in self.cache:
            self.cache["texts"] = split_texts(self.experiment, self.store.data_dir, self.data)
        return self.cache["texts"]

    def proba(self, split: str) -> np.ndarray:
        """The best model's probabilities on a split (the arrays the campaign trained on)."""
        key = f"proba_{split}"
        if key not in self.cache:
            x = getattr(self.data, f"x_{split}")
            out = np.asarray(self.classifier.model.predict(x, batch_size=1024, verbose=0))
            self.cache[key] = out.reshape(-1) if len(self.data.class_names) == 2 else out
        return self.cache[key]


def open_campaign(store: Store, name: str, progress: Callable[[str], None] = print):
    tracker = store.tracker()
    parent = tracker.find_campaign(name)
    if parent is None:
        raise InputError(str(store.path), "NAME", f"no campaign named {name!r}")
    run_id = parent.info.run_id
    experiment = experiment_from_dict(
        yaml.safe_load(tracker.read_text(run_id, "experiment.yaml")), f"campaign {name}",
        yaml.safe_load(tracker.read_text(run_id, "search_space.yaml")))
    rows = tracker.trial_rows(run_id)
    best = best_row(rows, experiment.objective.metric, experiment.objective.direction)
    if best is None:
        raise InputError(f"campaign {name}", None, "has no finished trial yet")
    data = prepare(experiment, store.data_dir, store.cache_dir, progress=progress)
    classifier = tracker.load_classifier(best["run_id"])
    return CampaignContext(name, store, tracker, parent, experiment, rows, best, data,
                           classifier)


def resolve_model(store: Store, name_or_run: str) -> tuple[Tracker, Any, TextClassifier]:
    """A campaign name (its best trial's model) or an MLflow run id with a logged model."""
    tracker = store.tracker()
    parent = tracker.find_campaign(name_or_run)
    run_id = parent.data.tags.get("best_run_id") if parent else name_or_run
    try:
        run = tracker.client.get_run(run_id)
    except Exception:  # noqa: BLE001 - MLflow raises its own exception type for unknown ids
        raise InputError("NAME_OR_RUN_ID", name_or_run,
                         "is neither a campaign nor a run id in this store") from None
    classifier = tracker.load_classifier(run.info.run_id)
    if classifier is None:
        raise InputError("NAME_OR_RUN_ID", name_or_run, "this run has no logged model")
    return tracker, run, classifier


# ---- evaluation on the campaign's own splits -------------------------------------------------


def evaluations(ctx: CampaignContext) -> dict[str, dict]:
    """val and test, at 0.5 and at the validation-optimal threshold (binary models)."""
    names = ctx.data.class_names
    out = {"val @ 0.5": evaluation(ctx.data.y_val, ctx.proba("val"), names),
           "test @ 0.5": evaluation(ctx.data.y_test, ctx.proba("test"), names)}
    if len(names) == 2:
        threshold = optimal_threshold(ctx.data.y_val, ctx.proba("val"))
        out[f"val @ {threshold:.2f} (val-optimal)"] = evaluation(
            ctx.data.y_val, ctx.proba("val"), names, threshold)
        out[f"test @ {threshold:.2f} (val-optimal)"] = evaluation(
            ctx.data.y_test, ctx.proba("test"), names, threshold)
    return out


def log_test_once(ctx: CampaignContext, evals: dict[str, dict]) -> None:
    """The final model's test metrics go on its run once; later reports leave them as they are."""
    run = ctx.tracker.client.get_run(ctx.best["run_id"])
    if "test_accuracy" in run.data.metrics:
        return
    test = [e for k, e in evals.items() if k.startswith("test")]
    metrics = flat_metrics(test[0], "test_")
    if len(test) > 1:
        metrics.update(flat_metrics(test[1], "test_at_opt_"))
    ctx.tracker.log_metrics(ctx.best["run_id"], metrics)
    ctx.tracker.set_tags(ctx.best["run_id"], {"test_evaluated": time.strftime("%Y-%m-%d %H:%M")})


def comparison_table(ctx: CampaignContext, evals: dict[str, dict]) -> pd.DataFrame:
    """The LSTM next to every baseline, on the same validation and test rows."""
    base = baseline_table(ctx.texts(), ctx.data.class_names, ctx.experiment.seed)
    lstm = [{"baseline": f"LSTM trial {ctx.best['tags']['ax_trial_index']} ({label})",
             "split": label.split()[0], **e["summary"]} for label, e in evals.items()]
    table = pd.concat([pd.DataFrame(lstm), base], ignore_index=True)
    return table.sort_values(["split", "baseline"], ascending=[False, True],
                             kind="stable").reset_index(drop=True)


# ---- election (seed 000, Tables 6-7) -------------------------------------------------------


def election(classifier: TextClassifier, experiment: ExperimentConfig, data_dir: Path,
             frame: pd.DataFrame | None = None, split_rows: np.ndarray | None = None
             ) -> pd.DataFrame:
    """Per-candidate counts. `frame` (text, group or not, label or not) defaults to the
    experiment's own labeled rows (restricted to `split_rows` when given). The candidate is the
    group column where the data have one, else the experiment's keyword rules."""
    if frame is None:
        frame = load_labeled(experiment, data_dir).frame
        if split_rows is not None:
            frame = frame[frame["row"].isin(split_rows)]
    texts = frame["text"].astype(str).tolist()
    keywords = experiment.election.keywords
    if "group" in frame and (frame["group"] != "").any():
        candidates = [[g] for g in frame["group"]]
    elif keywords:
        candidates = candidates_by_keywords(texts, keywords)
    else:
        raise InputError(experiment.path or "experiment", "election.keywords",
                         "the data have no candidate column: give keyword rules")
    predicted = predictions(classifier.predict_proba(texts), classifier.threshold)
    labels = frame["label"].to_numpy() if "label" in frame else None
    return election_table(candidates, predicted, labels, classifier.class_names,
                          experiment.election.exclude_groups)


def log_election(tracker: Tracker, run_id: str, table: pd.DataFrame, prefix: str) -> None:
    figure = plots.election_bars(table)
    tracker.log_files(run_id, texts={f"{prefix}/table.csv": table.to_csv(index=False),
                                     f"{prefix}/table.md": table.to_markdown(index=False)},
                      figures={f"{prefix}/bars.png": figure})
    plots.close(figure)


# ---- campaign-level plots --------------------------------------------------------------------


def campaign_frame(ctx: CampaignContext) -> pd.DataFrame:
    params = list(ctx.experiment.space.parameters)
    frame = table5(ctx.rows, params, ctx.metric, ctx.experiment.objective.direction)
    return frame[(frame["status"] == "FINISHED") & frame[ctx.metric].notna()]


def importance(ctx: CampaignContext) -> tuple[dict[str, float], str]:
    """Ax's GP-based sensitivity where a Bayesian model exists; else Spearman correlations."""
    from .search import Search

    numeric = [p for p, s in ctx.experiment.space.parameters.items() if s.type != "choice"]
    if ctx.store.ax_db.exists():
        exp = ctx.experiment
        search = Search.open(ctx.name, exp.space, exp.objective, exp.optimizer, exp.seed,
                             ctx.store.ax_db)
        sensitivity = search.sensitivity(ctx.metric)
        if sensitivity:
            return sensitivity, (f"Ax sensitivity analysis (total-order Sobol indices of the "
                                 f"GP model of {ctx.metric}, signed by direction)")
    frame = campaign_frame(ctx)
    values = {p: float(spearmanr(frame[p].astype(float), frame[ctx.metric]).statistic)
              for p in numeric if frame[p].nunique() > 1}
    return ({k: (0.0 if np.isnan(v) else v) for k, v in values.items()},
            f"Spearman rank correlation with {ctx.metric} (no Bayesian model to ask)")


def metric_history(tracker: Tracker, run_id: str, keys: list[str]) -> dict[str, list[float]]:
    out = {}
    for key in keys:
        # one value per epoch: the final metrics repeat the last epoch's at the same step
        by_step = {m.step: m.value for m in sorted(
            tracker.client.get_metric_history(run_id, key), key=lambda m: (m.step, m.timestamp))}
        if by_step:
            out[key] = [by_step[step] for step in sorted(by_step)]
    return out


# ---- the HTML report -------------------------------------------------------------------------


def write_report(ctx: CampaignContext, out_root: Path,
                 progress: Callable[[str], None] = print) -> Path:
    out = out_root / ctx.name
    out.mkdir(parents=True, exist_ok=True)
    exp, data, metric = ctx.experiment, ctx.data, ctx.metric
    names = data.class_names
    figures: dict[str, Any] = {}

    progress("report: evaluating the best model on validation and test")
    evals = evaluations(ctx)
    log_test_once(ctx, evals)
    progress("report: baselines (majority, TextBlob, VADER, TF-IDF + logistic regression)")
    comparison = comparison_table(ctx, evals)
    opt_key = next((k for k in evals if "optimal" in k and k.startswith("val")), "val @ 0.5")
    threshold = evals[opt_key]["threshold"]
    errors = error_analysis(ctx.texts()["val"], ctx.proba("val"), names, threshold)

    frame = campaign_frame(ctx)
    figures["trace.png"] = plots.optimization_trace(
        frame["trial_index"].tolist(), frame[metric].astype(float).to_numpy(),
        frame["generation"].tolist(), exp.objective.direction, metric)
    numeric = [p for p, s in exp.space.parameters.items() if s.type != "choice"]
    log_scale = {p for p, s in exp.space.parameters.items() if s.log_scale}
    figures["parallel_coordinates.png"] = plots.parallel_coordinates(frame, numeric, log_scale,
                                                                     metric)
    progress("report: parameter importance")
    weights, how = importance(ctx)
    figures["importance.png"] = plots.importance(list(weights), list(weights.values()),
                                                 "parameter importance")
    best_id = ctx.best["run_id"]
    history = metric_history(ctx.tracker, best_id, ["loss", "val_loss", "binary_accuracy",
                                                    "val_binary_accuracy",
                                                    "sparse_categorical_accuracy",
                                                    "val_sparse_categorical_accuracy"])
    trial = ctx.best["tags"]["ax_trial_index"]
    figures["best_learning_curves.png"] = plots.learning_curves(history, f"best trial {trial}")
    for split in ("val", "test"):
        y = getattr(data, f"y_{split}")
        figures[f"best_confusion_{split}.png"] = plots.confusion_matrix(
            y, predictions(ctx.proba(split), threshold), names,
            f"{split}, threshold {threshold:.2f}")
        figures[f"best_roc_{split}.png"] = plots.roc(y, ctx.proba(split), names, split)

    votes = None
    try:
        progress("report: election table")
        votes = election(ctx.classifier, exp, ctx.store.data_dir)
        figures["election.png"] = plots.election_bars(votes)
        votes.to_csv(out / "election.csv", index=False)
    except InputError as err:
        progress(f"report: no election table ({err.message})")

    comparison.to_csv(out / "baselines.csv", index=False)
    errors.to_csv(out / "error_analysis.csv", index=False)
    pngs = {}
    for file, figure in figures.items():
        pngs[file] = png_bytes(figure)
        (out / file).write_bytes(pngs[file])
        plots.close(figure)
    election_html = ("<p>No candidate column or keyword rules: no election table.</p>"
                     if votes is None else _table_html(votes, digits=4)
                     + _img(pngs["election.png"]))
    page = _page(ctx, evals, comparison, errors, election_html, how, frame, pngs)
    report = out / "report.html"
    report.write_text(page, encoding="utf-8")
    ctx.tracker.log_folder(ctx.parent.info.run_id, out, "report")
    return report


def _page(ctx, evals, comparison, errors, election_html, how, frame, pngs) -> str:
    exp, metric, best = ctx.experiment, ctx.metric, ctx.best
    completed = int((frame["status"] == "FINISHED").sum())
    failed = sum(r["status"] == "FAILED" and r["tags"].get("source") == "campaign"
                 for r in ctx.rows)
    overhead = _overhead(ctx.rows)
    space = exp.space
    table = table5(ctx.rows, list(space.parameters), metric, exp.objective.direction)
    metrics = pd.DataFrame([{"evaluation": k, **v["summary"]} for k, v in evals.items()])
    per_class = pd.DataFrame([{"evaluation": k, "class": c, **s} for k, v in evals.items()
                              for c, s in v["per_class"].items()])
    reproduction = _reproduction_html(ctx)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Campaign {html.escape(ctx.name)} — sentiment-hpo report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1150px; color: #222; }}
table {{ border-collapse: collapse; font-size: 12px; margin: 0.5em 0 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: 3px 6px; text-align: right; }}
th {{ background: #f3f3f3; }} 
img {{ max-width: 100%; margin: 0.4em 0; }} .grid {{ display: flex; flex-wrap: wrap; gap: 8px; }}
.grid img {{ max-width: 48%; }} pre {{ background: #f7f7f7; padding: 8px; font-size: 12px; }}
.note {{ color: #555; font-size: 13px; }} .wide {{ overflow-x: auto; }}
.errors td {{ text-align: left; }}
</style></head><body>
<h1>Campaign <code>{html.escape(ctx.name)}</code></h1>
<p>Experiment <b>{html.escape(exp.name)}</b> — {html.escape(exp.description.strip())}<br>
Objective: {exp.objective.direction} <b>{metric}</b> on the validation split ·
strategy {exp.optimizer.strategy} · {completed} completed, {failed} failed trials ·
data {ctx.data.fingerprint}: {len(ctx.data.y_train)} train / {len(ctx.data.y_val)} val /
{len(ctx.data.y_test)} test rows · status {ctx.parent.info.status}<br>
Best trial: <b>{best['tags']['ax_trial_index']}</b> ({metric} {best['metrics'][metric]:.4f},
run <code>{best['run_id']}</code>) · platform overhead {overhead}</p>

<h2>Table 5</h2>
<p class="note">One row per trial, columns as in seed 000's Table 5; * marks the best.
Rows with <code>paper_keras_cv</code> are the paper's own trials (another dataset), never best.</p>
<div class="wide">{_table_html(table, digits=6)}</div>

<h2>Optimization</h2>
{_img(pngs['trace.png'])}
{_img(pngs['parallel_coordinates.png'])}
<p class="note">Parameter importance: {html.escape(how)}.</p>
{_img(pngs['importance.png'])}

<h2>Best trial</h2>
{_img(pngs['best_learning_curves.png'])}
<div class="grid">{_img(pngs['best_confusion_val.png'])}
{_img(pngs['best_confusion_test.png'])}
{_img(pngs['best_roc_val.png'])}{_img(pngs['best_roc_test.png'])}</div>
<p class="note">The threshold is chosen on validation (maximum macro F1); the test split is
scored with the model the campaign selected on validation, after the search.</p>
{_table_html(metrics, digits=4)}
{_table_html(per_class, digits=4)}
<pre>{html.escape(next(v for k, v in evals.items() if k.startswith('test'))['report'])}</pre>

<h2>Baselines on the same splits</h2>
{_table_html(comparison, digits=4)}

<h2>Election analysis (seed 000, Tables 6–7)</h2>
<p class="note">positive / (positive + negative) per candidate, from the best model's
predictions on all of the experiment's labeled tweets and from the labels.</p>
{election_html}

<h2>Reproduction</h2>
{reproduction}

<h2>Error analysis (validation)</h2>
<p class="note">Most confident wrong predictions, then the borderline ones; the full list is
<code>error_analysis.csv</code>.</p>
<div class="errors wide">{_table_html(errors.groupby('kind').head(10), digits=3)}</div>
<p class="note">Generated by sentiment-hpo on {time.strftime('%Y-%m-%d %H:%M')}.</p>
</body></html>
"""


def _overhead(rows: list[dict[str, Any]]) -> str:
    """Share of trial wall time spent outside fit and evaluate (build, logging, plots)."""
    total = inside = 0.0
    for r in rows:
        m = r["metrics"]
        if r["tags"].get("source") == "campaign" and r["end_ms"] and "time_fit_s" in m:
            total += (r["end_ms"] - r["start_ms"]) / 1000
            inside += m["time_fit_s"] + m.get("time_evaluate_s", 0.0)
    return f"{(total - inside) / total:.1%} of trial time" if total else "n/a"


def _reproduction_html(ctx: CampaignContext) -> str:
    runs = [r for r in ctx.rows if r["tags"].get("source") == "reproduce"]
    if not runs:
        return (f"<p>Not reproduced yet: <code>sentiment-hpo reproduce {html.escape(ctx.name)}"
                f" --seeds 3</code>.</p>")
    metric = ctx.metric
    records = [{"reproduces run": r["tags"].get("reproduces", ""),
                "trial": r["tags"].get("ax_trial_index", ""),
                f"stored {metric}": r["metrics"].get(f"stored_{metric}"),
                f"reproduced {metric}": r["metrics"].get(metric),
                "identical": r["tags"].get("identical", ""),
                "other seeds mean": r["metrics"].get(f"seeds_mean_{metric}"),
                "other seeds std": r["metrics"].get(f"seeds_std_{metric}"),
                "test_accuracy": r["metrics"].get("test_accuracy"),
                "test_macro_f1": r["metrics"].get("test_macro_f1")} for r in runs]
    return _table_html(pd.DataFrame(records), digits=6)


def _table_html(frame: pd.DataFrame, digits: int = 4) -> str:
    if frame is None or frame.empty:
        return "<p>(empty)</p>"
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}f}")
    return shown.to_html(index=False, escape=True, border=0, na_rep="")


def _img(figure_png: bytes) -> str:
    return f'<img src="data:image/png;base64,{base64.b64encode(figure_png).decode()}">'


def png_bytes(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()
