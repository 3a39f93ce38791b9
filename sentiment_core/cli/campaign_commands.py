"""`campaign run|list|status`, `table`, `ui`, `server` and `reproduce`."""

from __future__ import annotations

import signal
import time

import click

from ..campaign import Store
from .base import campaign_or_fail, cli, pass_store, say

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
@click.option("--executor", type=click.Choice(["inline", "local", "ray"]), default=None,
              help="Where trials run: inline (this process), local (worker processes), ray "
                   "(Ray tasks) [default: the YAML's execution.executor, else inline].")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Trials at once (alone with N > 1: the local executor).")
@click.option("--ray-address", default=None,
              help="Ray cluster to join (auto, ray://head:10001) [default: a local Ray].")
@click.option("--gpus-per-trial", type=click.FloatRange(min=0), default=None,
              help="GPUs each Ray task asks for; fractions share a GPU.")
@click.option("--cpus-per-trial", type=click.FloatRange(min=0, min_open=True), default=None,
              help="CPUs each trial asks for (Ray) or its math threads (local).")
@click.option("--device", type=click.Choice(["auto", "cpu", "gpu"]), default=None,
              help="cpu hides GPUs from workers; gpu fails trials that see none.")
@click.option("--early-stopping/--no-early-stopping", default=None,
              help="Report each epoch's objective to Ax and stop trials its percentile rule "
                   "rejects [default: the YAML's early_stopping.enabled].")
@pass_store
def campaign_run(store: Store, experiment: str, trials: int | None, name: str | None,
                 attach_seed_table: bool, strategy: str | None, executor: str | None,
                 workers: int | None, ray_address: str | None, gpus_per_trial: float | None,
                 cpus_per_trial: float | None, device: str | None,
                 early_stopping: bool | None) -> None:
    """Create or resume a campaign: Ax proposes, workers train, MLflow records."""
    from ..campaign import CampaignStopped, run_campaign, with_execution, with_strategy
    from ..experiments import load_experiment

    exp = with_execution(with_strategy(load_experiment(experiment), strategy), early_stopping,
                         executor=executor, workers=workers, ray_address=ray_address,
                         gpus_per_trial=gpus_per_trial, cpus_per_trial=cpus_per_trial,
                         device=device)
    name = name or exp.name
    trials = trials or exp.budget.trials
    ex = exp.execution
    say(f"campaign {name}: {trials} trials of {exp.name}, objective {exp.objective.direction} "
        f"{exp.objective.metric}, store {store.path}, executor {ex.executor} "
        f"x{ex.workers}" + (", early stopping" if exp.early_stopping.enabled else ""))
    try:
        summary = run_campaign(exp, name, trials, store,
                               attach_seed_table=attach_seed_table, progress=say)
    except CampaignStopped as err:
        raise click.ClickException(f"campaign {name} stopped: {err}") from None
    stopped = f", {summary.early_stopped} early-stopped" if summary.early_stopped else ""
    click.echo(f"\nTable 5 — campaign {name} ({summary.completed} completed, {summary.failed} "
               f"failed{stopped}, {summary.wall_s / 60:.1f} min)")
    click.echo(summary.table)
    click.echo(f"\nbrowse it:     sentiment-hpo --store {store.path} ui {name}")
    click.echo(f"reproduce it:  sentiment-hpo --store {store.path} reproduce {name}")


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

    tracker, parent = campaign_or_fail(store, name)
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

    from ..evaluation import format_table, table5

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
    tracker, parent = campaign_or_fail(store, name)
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
    from ..campaign import start_ui

    tracker = store.tracker()
    path = "#/experiments"
    if name:
        _, parent = campaign_or_fail(store, name)
        path = f"#/experiments/{parent.info.experiment_id}/runs/{parent.info.run_id}"
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the server too, like Ctrl-C
    server = start_ui(store.path, host, port, store.tracking_uri)
    say(f"starting the MLflow UI on {tracker.uri} ...")
    _serve(server, f"http://{host}:{port}", [f"MLflow UI: http://{host}:{port}/{path}"])


def _serve(server, base: str, lines: list[str]) -> None:
    """Wait for `server` to answer /health, print `lines`, run until Ctrl-C or SIGTERM."""
    import urllib.request

    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    raise click.ClickException(f"mlflow server exited ({server.returncode})")
                time.sleep(0.5)
        for line in lines:
            click.echo(line)
        click.echo("Ctrl-C stops it.")
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except Exception:  # noqa: BLE001 - it would not stop: end it
            server.kill()


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to serve on; 0.0.0.0 lets other machines log to it.")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--backend-store-uri", default=None,
              help="Database for runs: the store's sqlite by default; a "
                   "postgresql://user:pass@host/db URI for many writers.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Server worker processes (keep 1 on sqlite).")
@click.option("--allowed-hosts", default=None,
              help="Host names clients may use besides localhost and private IPs "
                   "(mlflow server --allowed-hosts).")
@pass_store
def server(store: Store, host: str, port: int, backend_store_uri: str | None, workers: int,
           allowed_hosts: str | None) -> None:
    """Serve MLflow tracking for the store (runs + proxied artifacts) until Ctrl-C.

    Campaigns on this or other machines then log through it:
    sentiment-hpo --tracking-uri http://HOST:PORT campaign run ..."""
    from ..campaign import start_server

    backend = backend_store_uri
    if backend is None and store.tracking_uri and not store.tracking_uri.startswith("http"):
        backend = store.tracking_uri  # --tracking-uri naming a database
    signal.signal(signal.SIGTERM, _interrupt)
    process = start_server(store.path, host, port, backend, workers, allowed_hosts)
    say(f"starting the MLflow tracking server on {backend or store.path / 'mlflow.db'}, "
        f"artifacts in {store.path / 'artifacts'} ...")
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    _serve(process, f"http://{shown}:{port}",
           [f"MLflow server: http://{shown}:{port}",
            f"log to it:     sentiment-hpo --tracking-uri http://{shown}:{port} campaign run ..."])


@cli.command()
@click.argument("name")
@click.option("--trial", default="best", show_default=True, metavar="best|INDEX",
              help="Which trial: the best, or an Ax trial index.")
@click.option("--seeds", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also retrain with K other seeds and print mean ± std.")
@click.option("--score-test", is_flag=True,
              help="Score this trial on the test split even if it is not the campaign's "
                   "winner (tagged test_scored=explicit; never pick a model by it).")
@pass_store
def reproduce(store: Store, name: str, trial: str, seeds: int, score_test: bool) -> None:
    """Retrain a trial of campaign NAME from what MLflow recorded; compare; score the winner
    on test."""
    from ..campaign import reproduce_trial

    report = reproduce_trial(store, name, trial, seeds, progress=say,
                             score_test=True if score_test else None)
    click.echo("\n".join(report.lines()))
