"""`report`, `election`, `evaluate` and `predict`: what a campaign's best model is worth."""

from __future__ import annotations

from pathlib import Path

import click

from ..campaign import Store
from ..errors import InputError
from .base import cli, pass_store, say

# ---- evaluation, reports, election -----------------------------------------------------------


@cli.command()
@click.argument("name")
@click.option("--out", "out_dir", default="reports", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder for reports/<NAME>/report.html and its files.")
@pass_store
def report(store: Store, name: str, out_dir: Path) -> None:
    """Write campaign NAME's self-contained HTML report (also logged to its MLflow run)."""
    from ..campaign import open_campaign, write_report

    ctx = open_campaign(store, name, progress=say)
    path = write_report(ctx, out_dir, progress=say)
    click.echo(f"report: {path}  (also logged as report/ on campaign run "
               f"{ctx.parent.info.run_id})")


@cli.command()
@click.argument("name")
@click.option("--data", "data_file", type=click.Path(exists=True, dir_okay=False,
                                                     path_type=Path), default=None,
              help="Another CSV [default: the experiment's own labeled tweets].")
@click.option("--text-col", default="text", show_default=True,
              help="Text column of --data.")
@click.option("--group-col", default=None, help="Candidate column of --data [default: the "
                                                "experiment's keyword rules].")
@click.option("--label-col", default=None, help="Label column of --data, for the label side.")
@click.option("--label-map", multiple=True, metavar="RAW=SENTIMENT",
              help="Map --data's labels, e.g. Negative=negative,Positive=positive.")
@click.option("--split", type=click.Choice(["all", "test"]), default="all", show_default=True,
              help="With the experiment's data: every labeled tweet (as seed 000) or only the "
                   "held-out test rows.")
@pass_store
def election(store: Store, name: str, data_file: Path | None, text_col: str,
             group_col: str | None, label_col: str | None, label_map: tuple[str, ...],
             split: str) -> None:
    """Positive share per candidate from campaign NAME's best model, beside the labels'."""
    from ..campaign import election as election_table
    from ..campaign import log_election, open_campaign
    from ..data import read_user_csv

    ctx = open_campaign(store, name, progress=say)
    frame = None
    if data_file is not None:
        frame = read_user_csv(data_file, text_col, label_col, group_col, label_map,
                                  ctx.classifier.class_names)
    rows = ctx.data.rows["test"] if split == "test" and data_file is None else None
    say(f"election: predicting {'test rows of ' if rows is not None else ''}"
        f"{data_file or ctx.experiment.data.describe()}")
    votes = election_table(ctx.classifier, ctx.experiment, ctx.store.data_dir, frame, rows)
    if votes.empty:
        raise InputError(str(data_file or ctx.experiment.path), "candidates",
                         "no tweet matched a candidate")
    click.echo(votes.to_string(index=False, float_format=lambda v: f"{v:.5f}"))
    log_election(ctx.tracker, ctx.parent.info.run_id, votes,
                 "election" if data_file is None else f"election-{data_file.stem}")
    click.echo(f"logged to campaign run {ctx.parent.info.run_id}")


@cli.command()
@click.argument("name_or_run_id")
@click.option("--data", "data_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A labeled CSV (UTF-8, comma-separated; UTF-16 and a BOM are read too).")
@click.option("--text-col", required=True, help="Column of --data holding the texts.")
@click.option("--label-col", required=True, help="Column of --data holding the labels.")
@click.option("--label-map", multiple=True, metavar="RAW=SENTIMENT",
              help="e.g. --label-map 0=negative,1=neutral,2=positive (labels already named "
                   "negative/neutral/positive need none).")
@pass_store
def evaluate(store: Store, name_or_run_id: str, data_file: Path, text_col: str,
             label_col: str, label_map: tuple[str, ...]) -> None:
    """Evaluate a logged model on any labeled CSV; log a run linked to the model's run."""
    from ..campaign import resolve_model
    from ..data import read_user_csv, sha256_of
    from ..evaluation import evaluation, flat_metrics, plots, predictions

    tracker, run, classifier = resolve_model(store, name_or_run_id)
    frame = read_user_csv(data_file, text_col, label_col, None, label_map,
                              classifier.class_names)
    say(f"evaluating run {run.info.run_id} on {len(frame)} rows of {data_file}")
    proba = classifier.predict_proba(frame["text"].tolist())
    y = frame["label"].to_numpy()
    result = evaluation(y, proba, classifier.class_names, classifier.threshold)
    parent = run.data.tags.get("mlflow.parentRunId", "")
    eval_run = tracker.start_trial(parent, f"evaluate-{data_file.stem}", {
        "data": str(data_file), "text_col": text_col, "label_col": label_col,
        "rows": len(frame)}, {"source": "evaluate", "evaluates": run.info.run_id,
                              "campaign": run.data.tags.get("campaign", ""),
                              "data_sha256": sha256_of(data_file)}) if parent else None
    if eval_run:
        tracker.log_metrics(eval_run, flat_metrics(result, "eval_"))
        figure = plots.confusion_matrix(y, predictions(proba, classifier.threshold),
                                  classifier.class_names, data_file.name)
        tracker.log_files(eval_run, texts={"classification_report.txt": result["report"]},
                          figures={"confusion_matrix.png": figure})
        plots.close(figure)
        tracker.end_run(eval_run)
    for key, value in result["summary"].items():
        click.echo(f"  {key:<10} {value:.4f}")
    click.echo(result["report"])
    if eval_run:
        click.echo(f"logged as run {eval_run} (evaluates {run.info.run_id})")


@cli.command()
@click.argument("name_or_run_id")
@click.argument("texts", nargs=-1)
@click.option("--data", "data_file", type=click.Path(exists=True, dir_okay=False,
                                                     path_type=Path), default=None,
              help="A CSV whose --text-col texts to predict (instead of TEXT arguments).")
@click.option("--text-col", default="text", show_default=True,
              help="Text column of --data.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the predictions as CSV instead of printing them.")
@pass_store
def predict(store: Store, name_or_run_id: str, texts: tuple[str, ...],
            data_file: Path | None, text_col: str, output: Path | None) -> None:
    """Probabilities and labels from a logged model, for TEXT... or a CSV's text column."""
    from ..campaign import resolve_model
    from ..data import read_user_csv

    if not texts and data_file is None:
        raise InputError("predict", "TEXT", "give texts or --data FILE")
    if texts and data_file is not None:
        raise InputError("predict", "TEXT", f"give texts or --data {data_file}, not both "
                                            f"({len(texts)} text(s) given)")
    _, run, classifier = resolve_model(store, name_or_run_id)
    if data_file is not None:
        texts = tuple(read_user_csv(data_file, text_col, None, None, (),
                                        classifier.class_names)["text"])
    result = classifier.predict(list(texts))
    if output:
        result.to_csv(output, index=False)
        click.echo(f"{len(result)} predictions written to {output}")
    else:
        click.echo(result.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
