"""The daily experience: a quiet console (TensorFlow's and Ax's start-up lines hidden, ours and
Python's warnings shown, --verbose shows everything), one exit-code convention, help on every
option, campaigns that find their data again, no temp folder left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from conftest import ROOT, clean_env
from sentiment_core.cli import cli, console
from sentiment_core.errors import InputError

NOISE = ("oneDNN custom operations", "absl::InitializeLog", "DT_BOOL", "cpu_feature_guard",
         "Ax SQL storage initialized")


def cli_process(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in (env or clean_env()).items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-m", "sentiment_core.cli", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)


def test_a_campaign_prints_no_start_up_lines_and_remembers_its_data(write_experiment, tmp_path):
    """TensorFlow (import and first graph), Ax and MLflow in one real process: stderr holds
    our progress lines and none of theirs. The campaign reads its file relative to --data-dir;
    election then finds it without one."""
    data = {"dataset": "csv", "path": "tweets.csv", "text_column": "text",
            "label_column": "sentiment", "group_column": "candidate",
            "label_mapping": {"Negative": "negative", "Positive": "positive"}}
    store = tmp_path / "store"
    done = cli_process("--store", str(store), "--data-dir", str(tmp_path), "campaign", "run",
                       str(write_experiment(data=data)), "--trials", "1", "--name", "quiet")
    assert done.returncode == 0, done.stderr
    for line in NOISE:
        assert line not in done.stderr, done.stderr
    assert "data: vectorizing" in done.stderr and "trial 0 epoch 1/1" in done.stderr
    assert "Table 5" in done.stdout
    assert os.environ.get("TF_ENABLE_ONEDNN_OPTS") is None  # oneDNN stays on

    result = CliRunner().invoke(cli, ["--store", str(store), "--data-dir",
                                      str(tmp_path / "elsewhere"), "election", "quiet"])
    assert result.exit_code == 0, result.output
    assert f"data: {tmp_path / 'tweets.csv'} (the file campaign quiet recorded)" in \
        result.output and "Alice" in result.output


def test_verbose_shows_everything(write_experiment, tmp_path):
    done = cli_process("--verbose", "--store", str(tmp_path / "store"), "train",
                       str(write_experiment()))
    assert done.returncode == 0, done.stderr
    assert "oneDNN custom operations" in done.stderr and "epoch 1/1" in done.stderr


ROUTED = """
import os, sys, warnings
from sentiment_core.cli import console
with console.routed_stderr():
    os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are "
                b"written to STDERR\\n")
    os.write(2, b"I0000 00:00:1795926533.942483    7317 port.cc:153] oneDNN custom "
                b"operations are on.\\n")
    os.write(2, b"E0000 00:00:1795926538.116183    7317 util.cc:131] oneDNN supports "
                b"DT_BOOL only on platforms with AVX-512.\\n")
    os.write(2, b"E0000 00:00:1.0    7317 op_kernel.cc:1] a real C++ error\\n")
    warnings.warn("a Python warning stays visible", UserWarning)
    print("a Python line", file=sys.stderr)
os.write(2, b"after: fd 2 is the console again\\n")
"""


def test_routed_stderr_drops_only_the_known_lines():
    done = subprocess.run([sys.executable, "-c", ROUTED], cwd=ROOT, env=clean_env(),
                          capture_output=True, text=True, timeout=60)
    err = done.stderr
    assert done.returncode == 0, err
    assert "a real C++ error" in err and "a Python warning stays visible" in err
    assert "a Python line" in err and "after: fd 2 is the console again" in err
    assert "oneDNN" not in err and "absl" not in err


def test_the_import_hook_restores_fd_2_after_a_failed_import(capfd):
    hook = console.QuietImports({("no_such_package_xyz",): None})
    sys.meta_path.insert(0, hook)
    try:
        with pytest.raises(ModuleNotFoundError):
            import no_such_package_xyz  # noqa: F401
    finally:
        console.uninstall()
    os.write(2, b"still on the console\n")
    assert "still on the console" in capfd.readouterr().err


# ---- exit codes --------------------------------------------------------------------------

@pytest.fixture
def failing_fetch(monkeypatch):
    import sentiment_core.data as data

    def make(exc: BaseException):
        def fetch(*args, **kwargs):
            raise exc
        monkeypatch.setattr(data, "fetch", fetch)
    monkeypatch.setenv("SENTIMENT_HPO_VERBOSE", "0")  # restored after --verbose sets it
    return make


@pytest.mark.parametrize("exc, code, text", [
    (InputError("a.csv", "text", "no such column"), 2, "error: a.csv: text: no such column"),
    (click.ClickException("the server went away"), 1, "Error: the server went away"),
    (RuntimeError("boom\nsecond line"), 1, "error: RuntimeError: boom (--verbose shows"),
    (OSError(28, "No space left on device"), 1, "No space left on device"),
    (KeyboardInterrupt(), 130, "interrupted"),
])
def test_one_exit_code_convention(failing_fetch, exc, code, text):
    failing_fetch(exc)
    result = CliRunner().invoke(cli, ["data", "fetch", "x"])
    assert result.exit_code == code, result.output
    assert text in result.output and result.output.strip().count("\n") == 0, result.output
    assert "Traceback" not in result.output


def test_verbose_shows_the_traceback(failing_fetch):
    failing_fetch(RuntimeError("boom"))
    result = CliRunner().invoke(cli, ["--verbose", "data", "fetch", "x"])
    assert isinstance(result.exception, RuntimeError)


def walk(command: click.Command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, (*path, name))


@pytest.mark.parametrize("path, command", list(walk(cli)), ids=lambda p: " ".join(p) or "root"
                         if isinstance(p, tuple) else "")
def test_help_on_every_command_and_option(path, command):
    assert (command.help or "").strip(), f"{path}: no help"
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "help":
            assert (param.help or "").strip(), f"{' '.join(path)} {param.opts[0]}: no help"
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


# ---- campaigns remember their data -----------------------------------------------------------

def test_the_parent_run_records_its_data(finished):
    from sentiment_core.data import sha256_of

    experiment, store, summary = finished
    tracker = store.tracker()
    tags = tracker.client.get_run(summary.parent_run_id).data.tags
    assert tags["experiment"] == "tiny" and tags["data_fingerprint"]
    assert Path(tags["data_file"]).is_absolute() and Path(tags["data_file"]).exists()
    assert tags["data_sha256"] == sha256_of(Path(tags["data_file"]))
    assert tags["parameters"].split(",") == [*experiment.space.parameters,
                                             *experiment.space.fixed]
    kind = tracker.client.get_experiment(
        tracker.client.get_run(summary.parent_run_id).info.experiment_id).tags
    assert kind["mlflow.experimentKind"] == "custom_model_development"


def test_a_changed_or_missing_data_file_is_one_clear_line(finished, tmp_path):
    from sentiment_core.campaign.review.context import campaign_data_store

    import dataclasses

    experiment, store, summary = finished
    tags = store.tracker().client.get_run(summary.parent_run_id).data.tags
    copy = tmp_path / Path(tags["data_file"]).name
    # the same experiment reading its file relative to the data directory
    experiment = dataclasses.replace(experiment, data=dataclasses.replace(experiment.data,
                                                                          path=copy.name))
    copy.write_bytes(Path(tags["data_file"]).read_bytes() + b"one more,Positive,Alice\n")
    moved = store.__class__(store.path, tmp_path)
    changed = {**tags, "data_file": str(tmp_path / "gone" / copy.name)}
    with pytest.raises(InputError) as err:
        campaign_data_store(moved, "tiny-4", changed, experiment, progress=lambda m: None)
    assert err.value.field == "sha256" and "changed since campaign tiny-4" in err.value.line()
    copy.unlink()
    with pytest.raises(InputError) as err:
        campaign_data_store(moved, "tiny-4", changed, experiment, progress=lambda m: None)
    assert "missing" in err.value.line() and "gone" in err.value.line()
    old = {k: v for k, v in tags.items() if k not in ("data_file", "data_sha256")}
    assert campaign_data_store(moved, "tiny-4", old, experiment) is moved  # older campaigns


def test_reading_an_artifact_leaves_no_temp_folder(finished, tmp_path, monkeypatch):
    import tempfile

    _, store, summary = finished
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    text = store.tracker().read_text(summary.parent_run_id, "experiment.yaml")
    assert "name: tiny" in text
    assert list(private.iterdir()) == []
