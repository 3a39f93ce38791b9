"""The `sentiment-hpo` command line. Each command is a few lines calling into sentiment_core.

    sentiment-hpo data fetch gop-debate
    sentiment-hpo data inspect gop_debate_lstm
    sentiment-hpo train gop_debate_lstm --param lstm_units=32 --seed 1
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ INFO lines

import click  # noqa: E402

from .errors import InputError  # noqa: E402
from .store import Store  # noqa: E402


class _Cli(click.Group):
    """Bad input ends as one line on stderr and exit code 2, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except InputError as err:
            click.echo(f"error: {err.line()}", err=True)
            ctx.exit(2)


def say(message: str) -> None:
    """Progress goes to stderr so stdout stays clean for results."""
    click.echo(message, err=True)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", envvar="SENTIMENT_HPO_DATA_DIR", default="data", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder with the raw dataset files [env SENTIMENT_HPO_DATA_DIR].")
@click.option("--store", envvar="SENTIMENT_HPO_STORE", default="mlruns", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Embedded store: MLflow sqlite, Ax database, artifacts, data cache "
                   "[env SENTIMENT_HPO_STORE].")
@click.option("--tracking-uri", envvar="MLFLOW_TRACKING_URI", default=None,
              help="An MLflow server (or database) to log to instead of the store's sqlite "
                   "[env MLFLOW_TRACKING_URI].")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path, store: Path, tracking_uri: str | None) -> None:
    """Hyperparameter-optimization campaigns for neural sentiment models."""
    ctx.obj = Store(store, data_dir, tracking_uri)


pass_store = click.make_pass_decorator(Store)


# ---- data ------------------------------------------------------------------------------------


@cli.group()
def data() -> None:
    """Fetch, list and inspect datasets."""


@data.command("list")
@pass_store
def data_list(store: Store) -> None:
    """List the known datasets and whether each is in the data directory."""
    from .datasets import REGISTRY

    for d in REGISTRY.values():
        present = "present" if (store.data_dir / d.filename).exists() else "missing"
        fetchable = "fetchable" if d.url else "copy by hand"
        click.echo(f"{d.name:<28} {present:<8} {fetchable:<13} {d.description}")


@data.command("fetch")
@click.argument("dataset")
@pass_store
def data_fetch(store: Store, dataset: str) -> None:
    """Download DATASET by its pinned URL into the data directory and check its sha256."""
    from .datasets import fetch

    fetch(dataset, store.data_dir, progress=say)


@data.command("inspect")
@click.argument("experiment")
@pass_store
def data_inspect(store: Store, experiment: str) -> None:
    """Rows, class balance, duplicates, token lengths and group counts of EXPERIMENT's data."""
    from .config import load_experiment
    from .data import load_labeled
    from .eda import format_summary, summarize

    exp = load_experiment(experiment)
    say(f"reading {exp.data.dataset} from {store.data_dir}")
    click.echo(format_summary(summarize(load_labeled(exp, store.data_dir))))


# ---- one trial -------------------------------------------------------------------------------


def parse_params(space, pairs: tuple[str, ...]) -> dict:
    from .config import coerce_param

    params = space.defaults()
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise InputError("--param", pair, "expected NAME=VALUE")
        params[name] = coerce_param(space, name, value)
    return params


def print_epoch(epoch: int, epochs: int, logs: dict) -> None:
    shown = "  ".join(f"{k} {v:.4f}" for k, v in logs.items())
    say(f"  epoch {epoch}/{epochs}  {shown}")


@cli.command()
@click.argument("experiment")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Set a hyperparameter (repeatable); the others take the search space's "
                   "defaults.")
@click.option("--seed", type=int, default=None, help="Training seed [default: the experiment's].")
@pass_store
def train(store: Store, experiment: str, params: tuple[str, ...], seed: int | None) -> None:
    """Train and validate one model of EXPERIMENT; print its metrics and timings."""
    from .config import load_experiment
    from .data import prepare

    exp = load_experiment(experiment)
    chosen = parse_params(exp.space, params)
    seed = exp.seed if seed is None else seed
    data = prepare(exp, store.data_dir, store.cache_dir, progress=say)
    from .trial import TrialFailed, run_trial

    say(f"training {exp.model.family} on {len(data.y_train)} rows, seed {seed}: "
        + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in chosen.items()))
    start = time.perf_counter()
    try:
        result = run_trial(chosen, data, seed, exp.model.family, on_epoch=print_epoch)
    except TrialFailed as err:
        raise click.ClickException(f"trial failed: {err}") from None
    click.echo(f"\nvalidation metrics ({len(data.y_val)} rows, {exp.name}, seed {seed})")
    for name, value in result.metrics.items():
        click.echo(f"  {name:<16} {value:.4f}")
    timings = {"prepare_s": data.prepare_seconds, **result.timings,
               "wall_s": time.perf_counter() - start + data.prepare_seconds}
    click.echo("timings" + (" (data from cache)" if data.from_cache else ""))
    for name, value in timings.items():
        click.echo(f"  {name:<16} {value:,.0f}" if name == "samples_per_s"
                   else f"  {name:<16} {value:.2f}")


# ---- campaigns -------------------------------------------------------------------------------


@cli.group()
def campaign() -> None:
    """Run, resume, list and inspect optimization campaigns."""


@campaign.command("run")
@click.argument("experiment")
@click.option("--trials", type=click.IntRange(min=1), default=None,
              help="Completed trials to reach [default: the experiment's budget.trials].")
@click.option("--name", default=None,
              help="Campaign name; an existing one resumes [default: the experiment's name].")
@click.option("--attach-seed-table", is_flag=True,
              help="Attach seed 000's ten Table 5 rows as trials tagged source=paper "
                   "(another dataset: shown, never counted as best).")
@click.option("--strategy", type=click.Choice(["bayesian", "random"]), default=None,
              help="bayesian: Sobol then BoTorch; random: Sobol only [default: the YAML's].")
@pass_store
def campaign_run(store: Store, experiment: str, trials: int | None, name: str | None,
                 attach_seed_table: bool, strategy: str | None) -> None:
    """Create or resume a campaign: Ax proposes, a trial trains, MLflow records."""
    from .campaign import CampaignStopped, run_campaign, with_strategy
    from .config import load_experiment

    exp = with_strategy(load_experiment(experiment), strategy)
    name = name or exp.name
    trials = trials or exp.budget.trials
    say(f"campaign {name}: {trials} trials of {exp.name}, objective {exp.objective.direction} "
        f"{exp.objective.metric}, store {store.path}")
    try:
        summary = run_campaign(exp, name, trials, store,
                               attach_seed_table=attach_seed_table, progress=say)
    except CampaignStopped as err:
        raise click.ClickException(f"campaign {name} stopped: {err}") from None
    click.echo(f"\nTable 5 — campaign {name} ({summary.completed} completed, {summary.failed} "
               f"failed, {summary.wall_s / 60:.1f} min)")
    click.echo(summary.table)
    click.echo(f"\nbrowse it:     sentiment-hpo --store {store.path} ui {name}")
    click.echo(f"reproduce it:  sentiment-hpo --store {store.path} reproduce {name}")


def _campaign_or_fail(store: Store, name: str):
    tracker = store.tracker()
    parent = tracker.find_campaign(name)
    if parent is None:
        raise InputError(str(store.path), "NAME", f"no campaign named {name!r}")
    return tracker, parent


@campaign.command("list")
@pass_store
def campaign_list(store: Store) -> None:
    """List the campaigns in the store."""
    tracker = store.tracker()
    runs = tracker.campaigns()
    if not runs:
        click.echo("no campaigns yet")
        return
    click.echo(f"{'campaign':<24} {'experiment':<22} {'status':<9} {'trials':>6}  best")
    for run in runs:
        tags, metrics = run.data.tags, run.data.metrics
        objective = tags.get("objective", "")
        best = metrics.get(f"best_{objective}")
        click.echo(f"{tags['campaign']:<24} {tracker.experiment_name(run.info.experiment_id):<22} "
                   f"{run.info.status:<9} {int(metrics.get('completed_trials', 0)):>6}  "
                   + (f"{objective} {best:.4f}" if best is not None else "-"))


@campaign.command("status")
@click.argument("name")
@pass_store
def campaign_status(store: Store, name: str) -> None:
    """Counts by status, the best trial and Table 5 of campaign NAME."""
    from collections import Counter

    tracker, parent = _campaign_or_fail(store, name)
    rows = tracker.trial_rows(parent.info.run_id)
    counts = Counter(r["status"] for r in rows if r["tags"].get("source") == "campaign")
    tags = parent.data.tags
    click.echo(f"campaign {name}: {parent.info.status}, target {tags.get('n_trials')} trials, "
               f"objective {tags.get('direction')} {tags.get('objective')}")
    click.echo("trials: " + ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items())))
    if "best_run_id" in tags:
        click.echo(f"best: trial {tags['best_trial_index']} "
                   f"{tags['objective']} {tags.get('best_' + tags['objective'])} "
                   f"(run {tags['best_run_id']})")
    click.echo(_table_text(tracker, parent, "text"))


def _table_text(tracker, parent, fmt: str) -> str:
    import yaml

    from .reports import format_table, table5

    space = yaml.safe_load(tracker.read_text(parent.info.run_id, "search_space.yaml"))
    tags = parent.data.tags
    return format_table(table5(tracker.trial_rows(parent.info.run_id), list(space["parameters"]),
                               tags["objective"], tags["direction"]), fmt)


@cli.command()
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "csv"]), default="text",
              show_default=True)
@pass_store
def table(store: Store, name: str, fmt: str) -> None:
    """Print campaign NAME's trials like the seed paper's Table 5 (best row marked *)."""
    tracker, parent = _campaign_or_fail(store, name)
    click.echo(_table_text(tracker, parent, fmt))


def _interrupt(signum, frame):
    raise KeyboardInterrupt


@cli.command()
@click.argument("name", required=False)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to serve on; only 127.0.0.1 unless you ask.")
@click.option("--port", default=5000, show_default=True, type=int)
@pass_store
def ui(store: Store, name: str | None, host: str, port: int) -> None:
    """Serve the MLflow UI on the store (lean: one worker, no job runner) until Ctrl-C."""
    import urllib.request

    from .tracking import start_ui

    tracker = store.tracker()
    path = "#/experiments"
    if name:
        _, parent = _campaign_or_fail(store, name)
        path = f"#/experiments/{parent.info.experiment_id}/runs/{parent.info.run_id}"
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the server too, like Ctrl-C
    server = start_ui(store.path, host, port, store.tracking_uri)
    base = f"http://{host}:{port}"
    say(f"starting the MLflow UI on {tracker.uri} ...")
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    raise click.ClickException(f"mlflow server exited ({server.returncode})")
                time.sleep(0.5)
        click.echo(f"MLflow UI: {base}/{path}", )
        click.echo("Ctrl-C stops it.")
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.terminate()
        server.wait(timeout=30)


@cli.command()
@click.argument("name")
@click.option("--trial", default="best", show_default=True, metavar="best|INDEX",
              help="Which trial: the best, or an Ax trial index.")
@click.option("--seeds", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also retrain with K other seeds and print mean ± std.")
@pass_store
def reproduce(store: Store, name: str, trial: str, seeds: int) -> None:
    """Retrain a trial of campaign NAME from what MLflow recorded; compare; score on test."""
    from .reproduce import reproduce_trial

    report = reproduce_trial(store, name, trial, seeds, progress=say)
    click.echo("\n".join(report.lines()))


# ---- evaluation, reports, election -----------------------------------------------------------


@cli.command()
@click.argument("name")
@click.option("--out", "out_dir", default="reports", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder for reports/<NAME>/report.html and its files.")
@pass_store
def report(store: Store, name: str, out_dir: Path) -> None:
    """Write campaign NAME's self-contained HTML report (also logged to its MLflow run)."""
    from .campaign_report import open_campaign, write_report

    ctx = open_campaign(store, name, progress=say)
    path = write_report(ctx, out_dir, progress=say)
    click.echo(f"report: {path}  (also logged as report/ on campaign run "
               f"{ctx.parent.info.run_id})")


@cli.command()
@click.argument("name")
@click.option("--data", "data_file", type=click.Path(exists=True, dir_okay=False,
                                                     path_type=Path), default=None,
              help="Another CSV [default: the experiment's own labeled tweets].")
@click.option("--text-col", default="text", show_default=True)
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
    from .campaign_report import election as election_table, log_election, open_campaign
    from .data import read_user_csv

    ctx = open_campaign(store, name, progress=say)
    frame = None
    if data_file is not None:
        frame = read_user_csv(data_file, text_col, label_col, group_col, label_map,
                                  ctx.classifier.class_names)
    rows = ctx.data.rows["test"] if split == "test" and data_file is None else None
    say(f"election: predicting {'test rows of ' if rows is not None else ''}"
        f"{data_file or ctx.experiment.data.dataset}")
    votes = election_table(ctx.classifier, ctx.experiment, store.data_dir, frame, rows)
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
              type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--text-col", required=True)
@click.option("--label-col", required=True)
@click.option("--label-map", multiple=True, metavar="RAW=SENTIMENT",
              help="e.g. --label-map 0=negative,1=neutral,2=positive (labels already named "
                   "negative/neutral/positive need none).")
@pass_store
def evaluate(store: Store, name_or_run_id: str, data_file: Path, text_col: str,
             label_col: str, label_map: tuple[str, ...]) -> None:
    """Evaluate a logged model on any labeled CSV; log a run linked to the model's run."""
    from .campaign_report import resolve_model
    from .data import read_user_csv
    from .datasets import sha256_of
    from .metrics import evaluation, flat_metrics, predictions
    from .plots import close, confusion_matrix

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
        figure = confusion_matrix(y, predictions(proba, classifier.threshold),
                                  classifier.class_names, data_file.name)
        tracker.log_files(eval_run, texts={"classification_report.txt": result["report"]},
                          figures={"confusion_matrix.png": figure})
        close(figure)
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
                                                     path_type=Path), default=None)
@click.option("--text-col", default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the predictions as CSV instead of printing them.")
@pass_store
def predict(store: Store, name_or_run_id: str, texts: tuple[str, ...],
            data_file: Path | None, text_col: str, output: Path | None) -> None:
    """Probabilities and labels from a logged model, for TEXT... or a CSV's text column."""
    from .campaign_report import resolve_model
    from .data import read_user_csv

    if not texts and data_file is None:
        raise InputError("predict", "TEXT", "give texts or --data FILE")
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


def main() -> None:
    cli(prog_name="sentiment-hpo")
