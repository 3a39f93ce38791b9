"""The root command group, its global options and the helpers every command group shares.

One exit-code convention for every command: 0 done, 2 bad input (an InputError, or click's own
usage errors: one line naming the file or option and the field), 1 a failure (a trial, a
server, the campaign, a campaign another process is running; one line), 130 interrupted
(Ctrl-C), 143 terminated (SIGTERM, where a command installs `terminate_on_sigterm`). Never a
traceback, unless --verbose.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# TensorFlow's C++ INFO lines (cpu features); --verbose shows them again (see the callback)
_USER_TF_LOG_LEVEL = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import click  # noqa: E402

from ..campaign import Store  # noqa: E402 - light: names load on first use
from ..campaign.engine import interrupts  # noqa: E402
from ..errors import InputError  # noqa: E402
from ..executor_registry import EXECUTORS  # noqa: E402
from . import console  # noqa: E402

VERBOSE_ENV = "SENTIMENT_HPO_VERBOSE"


class _Cli(click.Group):
    """Bad input ends as one line on stderr and exit code 2, a failure as one line and exit
    code 1; a traceback only with --verbose."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except InputError as err:
            click.echo(f"error: {err.line()}", err=True)
            ctx.exit(2)
        except click.UsageError as err:  # a missing argument, a bad option value: one line
            where = err.ctx.command_path if err.ctx else ctx.command_path
            click.echo(f"error: {where}: {err.format_message()}", err=True)
            ctx.exit(2)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise  # ClickException: a failure, one line, exit 1
        except Terminated:
            click.echo("terminated", err=True)
            ctx.exit(143)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except Exception as err:  # noqa: BLE001 - the promise: never a traceback
            if verbose():
                raise
            first = (str(err).strip().splitlines() or [""])[0][:500]
            click.echo(f"error: {type(err).__name__}: {first} (--verbose shows the traceback)",
                       err=True)
            ctx.exit(1)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the same clean-up runs (see terminate_on_sigterm)."""


def _terminate(signum, frame):
    interrupts.request(Terminated)
    raise Terminated


def interrupt(signum, frame):
    """Ctrl-C's handler (also `ui`'s and `server`'s for SIGTERM): recorded, then raised."""
    interrupts.request(KeyboardInterrupt)
    raise KeyboardInterrupt


@contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """While inside, `kill PID` ends the command the way Ctrl-C does (the same clean-up: runs
    abandoned, records closed), then exit 143; the previous handlers are restored after. Both
    signals are also recorded, so that one raised where Python drops it (a weakref callback)
    still stops a campaign at its next event (campaign/engine/interrupts.py)."""
    interrupts.clear()
    previous = signal.signal(signal.SIGTERM, _terminate), signal.signal(signal.SIGINT,
                                                                           interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
        interrupts.clear()


def verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0", "false")


def say(message: str) -> None:
    """Progress goes to stderr so stdout stays clean for results."""
    click.echo(message, err=True)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", envvar="SENTIMENT_HPO_DATA_DIR", default="data", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder with the raw dataset files [env SENTIMENT_HPO_DATA_DIR]. Campaign "
                   "commands (report, election, reproduce) find the file their campaign "
                   "recorded without it.")
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
@click.option("-v", "--verbose", "verbose_flag", is_flag=True, envvar=VERBOSE_ENV,
              help="Show everything on stderr: TensorFlow's C++ start-up lines, Ax's INFO "
                   "logs, and a traceback for unexpected errors [env SENTIMENT_HPO_VERBOSE].")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path, store: Path, tracking_uri: str | None,
        ax_db: str | None, verbose_flag: bool) -> None:
    """Hyperparameter-optimization campaigns for neural sentiment models."""
    if verbose_flag:
        os.environ[VERBOSE_ENV] = "1"  # read by the Ax adapter and child processes
        if _USER_TF_LOG_LEVEL is None:
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
        console.uninstall()
    ctx.obj = Store(store, data_dir, tracking_uri, ax_db)


pass_store = click.make_pass_decorator(Store)


class RegisteredExecutor(click.Choice):
    """The executors' names as registered when the option is read (`executor_registry`)."""

    def __init__(self) -> None:
        super().__init__([])

    @property
    def choices(self):
        return tuple(EXECUTORS)

    @choices.setter
    def choices(self, _value) -> None:
        pass


def campaign_or_fail(store: Store, name: str):
    tracker = store.tracker()
    return tracker, tracker.require_campaign(name)
