"""`--help` works for every command and group, found by walking the click tree: a command added
later is covered without touching this file."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from sentiment_core.cli import cli


def walk(command: click.Command, path: tuple[str, ...] = ()):
    """(path, command) for `command` and everything below it, groups included."""
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=path[-1] if path else "sentiment-hpo")
        for name in command.list_commands(ctx):
            yield from walk(command.get_command(ctx, name), (*path, name))


COMMANDS = list(walk(cli))


def test_the_walk_finds_nested_commands():
    paths = {path for path, _ in COMMANDS}
    assert {(), ("campaign",), ("campaign", "run"), ("data", "fetch"), ("train",)} <= paths
    assert len(paths) == len(COMMANDS)


def squeeze(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("path, command", COMMANDS,
                         ids=[" ".join(("sentiment-hpo", *p)) for p, _ in COMMANDS])
def test_help(path, command):
    lines = (command.help or "").strip().splitlines()
    assert lines, f"`{' '.join(path) or 'the root group'}` has no docstring"
    first_line = lines[0]
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="sentiment-hpo")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: sentiment-hpo " + " ".join(path))
    # click rewraps the docstring: compare with whitespace squeezed
    assert squeeze(first_line) in squeeze(result.output)
