"""`campaign run|list|status`, `table`, `stages`, `results`, `ui`, `server` and `reproduce`."""

from __future__ import annotations

import errno
import signal
import time
from pathlib import Path

import click

from ..campaign import Store
from ..errors import InputError
from ..executor_registry import EXECUTORS
from ..tags import CampaignTags
from .base import (
    RegisteredExecutor,
    campaign_or_fail,
    cli,
    interrupt,
    pass_store,
    say,
    terminate_on_sigterm,
    verbose,
)

# ---- campaigns -------------------------------------------------------------------------------


@cli.group()
def campaign() -> None:
    """Run, resume, list and inspect optimization campaigns."""


@campaign.command("run")
@click.argument("experiment")
@click.option("--trials", type=click.IntRange(min=1), default=None,
              help="Completed trials to reach [default: the experiment's budget.trials].")
@click.option("--name", default=None,
              help="Campaign name; an existing one resumes [default: the experiment's name]. "
                   "With variants: the prefix of each variant's campaign NAME-VARIANT.")
@click.option("--variant", "only", multiple=True,
              help="With variants: run only these (repeatable) [default: all, in order].")
@click.option("--from", "start_from", default=None, metavar="RUN_ID|CAMPAIGN",
              help="Staged experiment: start the stages from this logged model instead of "
                   "running the base campaign.")
@click.option("--attach-seed-table", is_flag=True,
              help="Attach seed 000's ten Table 5 rows as trials tagged source=paper "
                   "(another dataset: shown, never counted as best).")
@click.option("--strategy", type=click.Choice(["bayesian", "random"]), default=None,
              help="bayesian: Sobol then BoTorch; random: Sobol only [default: the YAML's].")
@click.option("--executor", type=RegisteredExecutor(), default=None,
              help="Where trials run: " + "; ".join(f"{n} ({e.help})" for n, e in
                                                    EXECUTORS.items())
                   + " [default: the YAML's execution.executor, else inline].")
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
@click.option("--allow-changes", is_flag=True,
              help="Resume a campaign even though its data, search space, objective, "
                   "strategy or seed differ from what it recorded (the campaign keeps its "
                   "seed, and Ax its recorded search space) [default: refuse, naming the "
                   "change].")
@pass_store
def campaign_run(store: Store, experiment: str, trials: int | None, name: str | None,
                 only: tuple[str, ...], start_from: str | None, attach_seed_table: bool,
                 strategy: str | None, executor: str | None, workers: int | None,
                 ray_address: str | None, gpus_per_trial: float | None,
                 cpus_per_trial: float | None, device: str | None,
                 early_stopping: bool | None, allow_changes: bool) -> None:
    """Create or resume a campaign: Ax proposes, workers train, MLflow records.

    An experiment with `variants:` runs one campaign per variant (same budget and seed); one
    with `stages:` fine-tunes the winner stage by stage and prints seed 001's benchmark."""
    from ..campaign import with_execution, with_strategy
    from ..experiments import load_experiment, load_variants

    def configured(exp):
        return with_execution(with_strategy(exp, strategy), early_stopping, executor=executor,
                              workers=workers, ray_address=ray_address,
                              gpus_per_trial=gpus_per_trial, cpus_per_trial=cpus_per_trial,
                              device=device)

    variants = load_variants(experiment)
    if not variants:
        with terminate_on_sigterm():  # `kill` closes the records like Ctrl-C (exit 143)
            _run_one(store, configured(load_experiment(experiment)), trials, name, start_from,
                     attach_seed_table, allow_changes)
        return
    unknown = [v for v in only if v not in variants]
    if unknown:
        raise InputError("--variant", unknown[0], f"unknown (known: {', '.join(variants)})")
    with terminate_on_sigterm():
        for key, exp in variants.items():
            if only and key not in only:
                continue
            _run_one(store, configured(exp), trials, f"{name}-{key}" if name else None,
                     start_from, attach_seed_table, allow_changes)


def _refuse_if_running(store: Store, name: str) -> None:
    """A second driver hears "already running" at once, not after the engine's imports
    (TensorFlow, Ax, MLflow: seconds); `run_campaign` takes the lock again for the run itself."""
    from ..campaign import CampaignBusy, campaign_lock  # light: names load on first use

    try:
        with campaign_lock(store.path, name):
            pass
    except CampaignBusy as err:
        raise click.ClickException(str(err)) from None


def _run_one(store: Store, exp, trials: int | None, name: str | None, start_from: str | None,
             attach_seed_table: bool, allow_changes: bool = False) -> None:
    from ..campaign import (
        CampaignBusy,
        CampaignStopped,
        format_benchmark,
        run_campaign,
        run_stages,
    )
    from ..campaign import benchmark as stage_benchmark

    name = name or exp.name
    trials = trials or exp.budget.trials
    if start_from and not exp.stages:
        raise InputError("--from", start_from, f"{exp.name} has no stages to start")
    if not start_from:
        _refuse_if_running(store, name)
        ex = exp.execution
        say(f"campaign {name}: {trials} trials of {exp.name}, objective "
            f"{exp.objective.direction} {exp.objective.metric}, store {store.path}, executor "
            f"{ex.executor} x{ex.workers}"
            + (", early stopping" if exp.early_stopping.enabled else ""))
        try:
            summary = run_campaign(exp, name, trials, store,
                                   attach_seed_table=attach_seed_table, progress=say,
                                   allow_changes=allow_changes)
        except CampaignBusy as err:
            raise click.ClickException(str(err)) from None
        except CampaignStopped as err:
            raise click.ClickException(f"campaign {name} stopped: {err}") from None
        except OSError as err:
            if err.errno != errno.ENOSPC:
                raise
            raise click.ClickException(
                f"campaign {name} stopped: no space left on device ({err.filename or 'store'})"
                "; free some space and run this again to resume") from None
        stopped = f", {summary.early_stopped} early-stopped" if summary.early_stopped else ""
        if summary.raced:
            stopped += (f", {summary.raced} raced out ({summary.units_saved} seeds not "
                        "trained)")
        click.echo(f"\nTable 5 — campaign {name} ({summary.completed} completed, "
                   f"{summary.failed} failed{stopped}, {summary.wall_s / 60:.1f} min)")
        click.echo(summary.table)
    if exp.stages:
        run_stages(exp, name, store, start_from=start_from, progress=say)
        click.echo(f"\nseed 001's benchmark per stage — campaign {name} (each on its own "
                   "test split)")
        click.echo(format_benchmark(stage_benchmark(store, name)))
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

    from ..campaign import best_trial
    from ..evaluation import format_table, table5

    space = yaml.safe_load(tracker.read_text(parent.info.run_id, "search_space.yaml"))
    tags = CampaignTags.of(parent.data.tags)
    rows = tracker.trial_rows(parent.info.run_id)
    best = best_trial(rows, tags.objective, tags.direction)
    return format_table(table5(rows, list(space["parameters"]), tags.objective,
                               best["run_id"] if best else None), fmt)


@cli.command()
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "csv"]), default="text",
              show_default=True, help="text for the terminal, markdown for notes, csv for "
                                      "spreadsheets.")
@pass_store
def table(store: Store, name: str, fmt: str) -> None:
    """Print campaign NAME's trials like the seed paper's Table 5 (best row marked *)."""
    tracker, parent = campaign_or_fail(store, name)
    click.echo(_table_text(tracker, parent, fmt))


@cli.command()
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text",
              show_default=True, help="text for the terminal, markdown for notes.")
@pass_store
def stages(store: Store, name: str, fmt: str) -> None:
    """Seed 001's benchmark table of staged campaign NAME: one row per stage, each on its own
    test split (accuracy, precision / recall / F1 per class, macro F1)."""
    from ..campaign import benchmark, format_benchmark

    click.echo(format_benchmark(benchmark(store, name), fmt))


@cli.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the markdown here (e.g. experiments/RESULTS.md) instead of printing.")
@click.option("--experiments", "folder", default="experiments", show_default=True,
              type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="The experiment YAMLs to report on.")
@pass_store
def results(store: Store, out: Path | None, folder: Path) -> None:
    """Per experiment: best validation and test figures, baselines on the same test rows, the
    seed's reported figure, budget and wall time, from the store alone."""
    from ..campaign import write_results

    text = write_results(store, folder, out)
    if out is None:
        click.echo(text)
    else:
        click.echo(f"written {out}")


def _stop_on_signals() -> None:
    """Ctrl-C (SIGINT) and `kill` (SIGTERM) stop the server. SIGINT too is set explicitly: a
    process started with SIGINT ignored (a background job of a script, a test runner's
    worker) inherits that, and Python then never raises KeyboardInterrupt."""
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)


@cli.command()
@click.argument("name", required=False)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface the local server listens on. 127.0.0.1: this machine only; "
                   "another address (0.0.0.0) exposes the store to the network, so only if "
                   "you ask.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535),
              help="Port of the local server.")
@pass_store
def ui(store: Store, name: str | None, host: str, port: int) -> None:
    """Open campaign NAME's trials in the MLflow UI: "Model training" mode, the campaign's
    trials best first, the objective and the parameters as columns.

    With an http(s) --tracking-uri it prints that server's link; otherwise it serves the
    store (lean: one worker, no job runner) until Ctrl-C."""
    from ..campaign import MlflowRest, backend_uri, is_server, start_server

    if is_server(store.tracking_uri):
        api = MlflowRest(store.tracking_uri)
        if not api.healthy():
            raise click.ClickException(f"cannot reach the MLflow server {store.tracking_uri}")
        _print_links(api, name, api.base, store)
        return
    if store.tracking_uri is None and not (store.path / "mlflow.db").exists() and name:
        raise InputError(str(store.path), "NAME", f"no campaign named {name!r} (the store "
                                                  "has no MLflow database yet)")
    _stop_on_signals()
    say(f"starting the MLflow UI on {backend_uri(store.path, store.tracking_uri)} ..."
        + ("" if verbose() else f" (server log: {store.path / 'mlflow-ui.log'})"))
    log = None if verbose() else store.path / "mlflow-ui.log"
    server = start_server(store.path, host, port, store.tracking_uri, log)
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    api = MlflowRest(f"http://{_url_host(local)}:{port}")
    _serve(server, api.healthy, lambda: _print_links(api, name, api.base, store), port, log)


def _serve(server, healthy, announce, port: int, log=None) -> None:
    """Wait until `healthy()`, `announce()` the links, then run until Ctrl-C or SIGTERM; the
    server is always stopped on the way out."""
    try:
        for _ in range(240):
            if healthy():
                break
            if server.poll() is not None:
                raise click.ClickException(
                    f"the mlflow server exited ({server.returncode}); is port {port} in use? "
                    f"(--port){f'; its log: {log}' if log else ''}")
            time.sleep(0.5)
        else:
            raise click.ClickException("the mlflow server did not answer within 2 minutes")
        announce()
        click.echo("Ctrl-C stops it.")
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        from ..campaign import stop_server

        stop_server(server)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to serve on; 0.0.0.0 lets other machines log to it.")
@click.option("--port", default=5000, show_default=True, type=int,
              help="Port to serve on.")
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
    from ..campaign import MlflowRest, start_server

    backend = backend_store_uri
    if backend is None and store.tracking_uri and not store.tracking_uri.startswith("http"):
        backend = store.tracking_uri  # --tracking-uri naming a database
    _stop_on_signals()
    process = start_server(store.path, host, port, backend, serve_artifacts=True,
                           workers=workers, allowed_hosts=allowed_hosts)
    say(f"starting the MLflow tracking server on {backend or store.path / 'mlflow.db'}, "
        f"artifacts in {store.path / 'artifacts'} ...")
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{_url_host(shown)}:{port}"

    def announce() -> None:
        click.echo(f"MLflow server: {base}")
        click.echo(f"log to it:     sentiment-hpo --tracking-uri {base} campaign run ...")

    _serve(process, MlflowRest(base).healthy, announce, port)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _print_links(api, name: str | None, base: str, store: Store) -> None:
    from ..campaign import all_campaigns_model_training, campaign_page, overview_url

    if not name:
        all_campaigns_model_training(api)
        click.echo(f"MLflow UI: {overview_url(base)}")
        return
    page = campaign_page(api, name, base)
    if page is None:
        raise InputError(store.tracking_uri or str(store.path), "NAME",
                         f"no campaign named {name!r}")
    click.echo(f"MLflow UI: {page.trials_url}")
    click.echo(f"  campaign {name}: {page.trials} trials, best {page.metric} first; columns "
               f"{page.metric}, " + ", ".join(page.parameters))
    click.echo(f"Search charts: {page.charts_url}")
    click.echo(f"  parallel coordinates, {page.metric} by trial and against each parameter")
    click.echo(f"  the campaign run (Table 5, report, best model): {page.run_url}")


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
