"""The `sentiment-hpo` command line. Each command is a few lines calling into sentiment_core.

    sentiment-hpo data fetch gop-debate
    sentiment-hpo campaign run gop_debate_lstm --trials 20 --name gop-1
    sentiment-hpo report gop-1

base: the root group and global options; one module per command group.
"""

from . import campaign_commands, data_commands, evaluation_commands  # noqa: F401 - register
from .base import cli


def main() -> None:
    cli(prog_name="sentiment-hpo")
