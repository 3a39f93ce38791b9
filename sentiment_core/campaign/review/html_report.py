"""The campaign's self-contained HTML report: Table 5, the optimization plots, the best model on
validation and test beside the baselines, the election table, reproduction and error analysis.

    path = write_report(open_campaign(store, "gop-20"), Path("reports"))   # also logged to MLflow
"""

from __future__ import annotations

import base64
import html
import io
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ... import tags as T
from ...errors import InputError
from ...evaluation import error_analysis, plots, predictions, readable_table5, table5
from .context import (
    CampaignContext,
    campaign_frame,
    comparison_table,
    election,
    evaluations,
    importance,
    log_test_once,
    metric_history,
)


def write_report(ctx: CampaignContext, out_root: Path,
                 progress: Callable[[str], None] = print) -> Path:
    out = out_root / ctx.name
    out.mkdir(parents=True, exist_ok=True)
    exp, data, metric = ctx.experiment, ctx.data, ctx.metric
    names = data.class_names
    figures: dict[str, Any] = {}

    progress("report: evaluating the best model on validation and test")
    evals = evaluations(ctx)
    log_test_once(ctx)
    progress("report: baselines (majority, TextBlob, VADER, TF-IDF + logistic regression)")
    comparison = comparison_table(ctx, evals)
    threshold = ctx.classifier.threshold  # stored: chosen on validation (out-of-fold)
    if exp.objective.folds > 1:  # the fold ensemble trained on these rows: nothing to learn
        errors = pd.DataFrame({"note": ["folds: the validation rows were inside the fold "
                                        "models' training data; no in-sample error analysis"]})
    else:
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
    title = f"best trial {ctx.best['tags']['ax_trial_index']}"
    units = ctx.tracker.client.get_metric_history(best_id, "unit_epochs_run")
    if units:  # several folds / seeds: their epochs follow each other in the steps; show one
        epochs = int(min(units, key=lambda m: m.step).value)
        history = {key: values[:epochs] for key, values in history.items()}
        title += f", {ctx.best['tags'].get('units', 'unit 1').split(', ')[0]}"
    figures["best_learning_curves.png"] = plots.learning_curves(history, title)
    for split in ("val", "test") if exp.objective.folds == 1 else ("test",):
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


STYLE = """body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1150px; color: #222; }
table { border-collapse: collapse; font-size: 12px; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: right; }
th { background: #f3f3f3; }
img { max-width: 100%; margin: 0.4em 0; } .grid { display: flex; flex-wrap: wrap; gap: 8px; }
.grid img { max-width: 48%; } pre { background: #f7f7f7; padding: 8px; font-size: 12px; }
.note { color: #555; font-size: 13px; } .wide { overflow-x: auto; }
.errors td { text-align: left; }
#table5 th, #table5 td { padding: 3px 4px; } #table5 th { vertical-align: bottom; }
"""


def table5_html(table: pd.DataFrame) -> str:
    """Table 5 as the page shows it: rounded to read, column names that may wrap, in a box
    that fits a 1,400-pixel window (tests/campaign/test_html_report.py measures it)."""
    return (f'<div class="wide" id="table5">'
            f'{_breakable_headers(_table_html(readable_table5(table)))}</div>')


def _page(ctx, evals, comparison, errors, election_html, how, frame, pngs) -> str:
    exp, metric, best = ctx.experiment, ctx.metric, ctx.best
    completed = int((frame["status"] == "FINISHED").sum())
    failed = sum(r["status"] == "FAILED" and r["tags"].get(T.SOURCE) == T.FROM_CAMPAIGN
                 for r in ctx.rows)
    overhead = _overhead(ctx.rows)
    space = exp.space
    table = table5(ctx.rows, list(space.parameters), metric, best["run_id"])
    metrics = pd.DataFrame([{"evaluation": k, **v["summary"]} for k, v in evals.items()])
    per_class = pd.DataFrame([{"evaluation": k, "class": c, **s} for k, v in evals.items()
                              for c, s in v["per_class"].items()])
    reproduction = _reproduction_html(ctx)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Campaign {html.escape(ctx.name)} — sentiment-hpo report</title>
<style>
{STYLE}</style></head><body>
<h1>Campaign <code>{html.escape(ctx.name)}</code></h1>
<p>Experiment <b>{html.escape(exp.name)}</b> — {html.escape(exp.description.strip())}<br>
Objective: {exp.objective.direction} <b>{metric}</b> on the validation split ·
strategy {exp.optimizer.strategy} · {completed} completed, {failed} failed trials ·
data {ctx.data.fingerprint}: {len(ctx.data.y_train)} train / {len(ctx.data.y_val)} val /
{len(ctx.data.y_test)} test rows · status {ctx.parent.info.status}<br>
Best trial: <b>{best['tags']['ax_trial_index']}</b> ({metric} {_spread(best, metric)},
run <code>{best['run_id']}</code>) · platform overhead {overhead}<br>
{_val_to_test(evals, metric, exp.objective.folds)}</p>

<h2>Table 5</h2>
<p class="note">One row per trial, columns as in seed 000's Table 5; * marks the best.
Rows with <code>paper_keras_cv</code> are the paper's own trials (another dataset), never best.</p>
{table5_html(table)}

<h2>Optimization</h2>
{_img(pngs['trace.png'])}
{_img(pngs['parallel_coordinates.png'])}
<p class="note">Parameter importance: {html.escape(how)}.</p>
{_img(pngs['importance.png'])}

<h2>Best trial</h2>
{_img(pngs['best_learning_curves.png'])}
<div class="grid">{''.join(_img(pngs[f'best_{kind}_{split}.png'])
                            for kind in ('confusion', 'roc') for split in ('val', 'test')
                            if f'best_{kind}_{split}.png' in pngs)}</div>
<p class="note">The threshold is chosen on validation (maximum macro F1); the test split is
scored with the model the campaign selected on validation, after the search.</p>
{_table_html(metrics, digits=4)}
{_table_html(per_class, digits=4)}
<pre>{html.escape(next(v for k, v in evals.items() if k.startswith('test'))['report'])}</pre>

<h2>Baselines on the same splits</h2>
<p class="note">split <code>test_tweets</code>: the test split with each distinct tweet once
(copies of a tweet share the split, and a few tweets can repeat a hundred times).</p>
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


def _spread(row: dict[str, Any], metric: str) -> str:
    """The winner's value, with its spread over the objective's folds / seeds when it has one."""
    value, sd = row["metrics"][metric], row["metrics"].get(f"{metric}_sd")
    units = row["tags"].get("units", "")
    return f"{value:.4f}" + (f" ± {sd:.4f} over {units}" if sd is not None and units else "")


def _val_to_test(evals: dict[str, dict], metric: str, folds: int) -> str:
    """One line: the selected model's validation score -> its test score, at 0.5."""
    key = metric.removeprefix("val_")
    first = next(iter(evals.values()))["summary"]  # val @ 0.5, or out-of-fold with folds
    val, test = first.get(key), evals["test @ 0.5"]["summary"].get(key)
    if val is None or test is None:
        return ""
    caveat = (" (validation: out-of-fold predictions of the fold models, as recorded; test: "
              "their ensemble)" if folds > 1 else "")
    return (f"Validation → test ({key} at 0.5, the selected model): {val:.4f} → {test:.4f} "
            f"({test - val:+.4f}){caveat}")


def _overhead(rows: list[dict[str, Any]]) -> str:
    """Share of trial wall time spent outside fit and evaluate (build, logging, plots)."""
    total = inside = 0.0
    for r in rows:
        m = r["metrics"]
        if r["tags"].get(T.SOURCE) == T.FROM_CAMPAIGN and r["end_ms"] and "time_fit_s" in m:
            total += (r["end_ms"] - r["start_ms"]) / 1000
            inside += m["time_fit_s"] + m.get("time_evaluate_s", 0.0)
    return f"{(total - inside) / total:.1%} of trial time" if total else "n/a"


def _reproduction_html(ctx: CampaignContext) -> str:
    runs = [r for r in ctx.rows if r["tags"].get(T.SOURCE) == T.FROM_REPRODUCE]
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
                "test scored": r["tags"].get(T.TEST_SCORED, ""),  # why: winner / explicit
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


def _breakable_headers(table_html: str) -> str:
    """Column names may wrap after an underscore (learning_<wbr>rate), so a table of many
    parameters fits the page instead of scrolling sideways."""
    return re.sub(r"<th>([^<]*)</th>",
                  lambda m: "<th>" + m.group(1).replace("_", "_<wbr>") + "</th>", table_html)


def _img(figure_png: bytes) -> str:
    return f'<img src="data:image/png;base64,{base64.b64encode(figure_png).decode()}">'


def png_bytes(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()
