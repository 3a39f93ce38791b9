"""The root command group, its global options and the helpers every command group shares."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ INFO lines

import click  # noqa: E402

from ..campaign import Store  # noqa: E402 - light: names load on first use
from ..errors import InputError  # noqa: E402


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
@click.option("--ax-db", envvar="SENTIMENT_HPO_AX_DB", default=None,
              help="A database URL for Ax's campaign state instead of the store's ax.db, e.g. "
                   "postgresql+psycopg://user:pass@host/ax: a driver on another machine can "
                   "then resume the campaign [env SENTIMENT_HPO_AX_DB].")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path, store: Path, tracking_uri: str | None,
        ax_db: str | None) -> None:
    """Hyperparameter-optimization campaigns for neural sentiment models."""
    ctx.obj = Store(store, data_dir, tracking_uri, ax_db)


pass_store = click.make_pass_decorator(Store)


def campaign_or_fail(store: Store, name: str):
    tracker = store.tracker()
    parent = tracker.find_campaign(name)
    if parent is None:
        raise InputError(str(store.path), "NAME", f"no campaign named {name!r}")
    return tracker, parent
