"""The `sentiment-hpo` command line. Each command is a few lines calling into sentiment_core.

    sentiment-hpo data fetch gop-debate
    sentiment-hpo data inspect gop_debate_lstm
    sentiment-hpo train gop_debate_lstm --param lstm_units=32 --seed 1
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ INFO lines

import click  # noqa: E402

from .errors import InputError  # noqa: E402


@dataclass
class Settings:
    data_dir: Path
    store: Path

    @property
    def cache_dir(self) -> Path:
        return self.store / "cache"


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
@click.pass_context
def cli(ctx: click.Context, data_dir: Path, store: Path) -> None:
    """Hyperparameter-optimization campaigns for neural sentiment models."""
    ctx.obj = Settings(data_dir, store)


pass_settings = click.make_pass_decorator(Settings)


# ---- data ------------------------------------------------------------------------------------


@cli.group()
def data() -> None:
    """Fetch, list and inspect datasets."""


@data.command("list")
@pass_settings
def data_list(settings: Settings) -> None:
    """List the known datasets and whether each is in the data directory."""
    from .datasets import REGISTRY

    for d in REGISTRY.values():
        present = "present" if (settings.data_dir / d.filename).exists() else "missing"
        fetchable = "fetchable" if d.url else "copy by hand"
        click.echo(f"{d.name:<28} {present:<8} {fetchable:<13} {d.description}")


@data.command("fetch")
@click.argument("dataset")
@pass_settings
def data_fetch(settings: Settings, dataset: str) -> None:
    """Download DATASET by its pinned URL into the data directory and check its sha256."""
    from .datasets import fetch

    fetch(dataset, settings.data_dir, progress=say)


@data.command("inspect")
@click.argument("experiment")
@pass_settings
def data_inspect(settings: Settings, experiment: str) -> None:
    """Rows, class balance, duplicates, token lengths and group counts of EXPERIMENT's data."""
    from .config import load_experiment
    from .data import load_labeled
    from .eda import format_summary, summarize

    exp = load_experiment(experiment)
    say(f"reading {exp.data.dataset} from {settings.data_dir}")
    click.echo(format_summary(summarize(load_labeled(exp, settings.data_dir))))


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
@pass_settings
def train(settings: Settings, experiment: str, params: tuple[str, ...], seed: int | None) -> None:
    """Train and validate one model of EXPERIMENT; print its metrics and timings."""
    from .config import load_experiment
    from .data import prepare

    exp = load_experiment(experiment)
    chosen = parse_params(exp.space, params)
    seed = exp.seed if seed is None else seed
    data = prepare(exp, settings.data_dir, settings.cache_dir, progress=say)
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


def main() -> None:
    cli(prog_name="sentiment-hpo")
