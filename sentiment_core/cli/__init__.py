"""The `sentiment-hpo` command line. Each command is a few lines calling into sentiment_core.

    sentiment-hpo data fetch gop-debate
    sentiment-hpo campaign run gop_debate_lstm --trials 20 --name gop-1
    sentiment-hpo report gop-1

base: the root group, global options and the exit-code convention; console: the quiet
console (TensorFlow's and Ax's start-up lines kept off stderr); one module per command group.
"""

from . import campaign_commands, data_commands, evaluation_commands  # noqa: F401 - register
from . import console
from .base import cli


def main() -> None:
    console.install()  # --verbose (parsed later, before any command imports TF) undoes it
    cli(prog_name="sentiment-hpo")
