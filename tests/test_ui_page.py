"""`sentiment-hpo ui NAME`: a real wrapper process and MLflow server on the finished tiny
campaign; the printed link rendered in headless Chromium (skipped without it) must show the
campaign's trials in Model-training mode with the objective and the parameters as columns."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT, clean_env
from sentiment_core.campaign import MlflowRest, server_command
from sentiment_core.cli import cli

PARAMETERS = ["learning_rate", "dropout_rate", "lstm_units", "neurons_dense", "embedding_size",
              "num_epochs", "batch_size"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", text).group(1))


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # the parent's pid
            found.append(int(stat.parent.name))
    return found


@pytest.fixture(scope="module")
def ui_server(finished):
    """`sentiment-hpo ui tiny-4` running as a real process; its printed links."""
    _, store, _ = finished
    port = free_port()
    env = clean_env()
    process = subprocess.Popen(
        [sys.executable, "-m", "sentiment_core.cli", "--store", str(store.path), "ui", "tiny-4",
         "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.time() + 180
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if line.startswith("Ctrl-C stops it"):
            break
    try:
        assert lines and lines[-1].startswith("Ctrl-C"), (lines, process.stderr.read()
                                                          if process.poll() is not None else "")
        yield process, port, lines, store
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def test_ui_prints_the_model_training_link_and_stays_small(ui_server):
    process, port, lines, store = ui_server
    url = next(line.split(": ", 1)[1] for line in lines if line.startswith("MLflow UI"))
    assert url.startswith(f"http://127.0.0.1:{port}/#/experiments/")
    assert "/runs?viewStateShareKey=campaign-tiny-4&workflowType=machine_learning" in url
    assert any("columns val_roc_auc, " + ", ".join(PARAMETERS) in line for line in lines)
    # the wrapper only waits for the server: no TensorFlow, Ax or MLflow in it
    assert rss_kb(process.pid) < 100_000, rss_kb(process.pid)
    server = children(process.pid)
    assert server, "no server process"
    command = Path(f"/proc/{server[0]}/cmdline").read_bytes().split(b"\0")
    assert command[command.index(b"--host") + 1] == b"127.0.0.1"  # bound locally unless asked
    # the experiment is tagged as model training and holds the saved view
    api = MlflowRest(f"http://127.0.0.1:{port}")
    experiment_id = url.split("/#/experiments/")[1].split("/")[0]
    tags = api.experiment_tags(experiment_id)
    assert tags["mlflow.experimentKind"] == "custom_model_development"
    view = json.loads(tags["mlflow.sharedViewState.campaign-tiny-4"])
    state = json.loads(view["state"])
    assert state["selectedColumns"] == ["metrics.`val_roc_auc`",
                                        *(f"params.`{p}`" for p in PARAMETERS)]
    assert state["orderByKey"] == "metrics.`val_roc_auc`" and state["orderByAsc"] is False
    # the server's access log goes to the store, not to the console
    assert (store.path / "mlflow-ui.log").exists()


def test_ui_with_a_server_uri_opens_that_server(ui_server):
    _, port, _, _ = ui_server
    start = time.perf_counter()
    result = CliRunner().invoke(cli, ["--tracking-uri", f"http://127.0.0.1:{port}", "ui",
                                      "tiny-4"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"http://127.0.0.1:{port}/#/experiments/" in result.output
    assert "Ctrl-C" not in result.output  # nothing served here: it is that server's UI
    assert time.perf_counter() - start < 30
    result = CliRunner().invoke(cli, ["--tracking-uri", f"http://127.0.0.1:{free_port()}",
                                      "ui", "tiny-4"])
    assert result.exit_code == 1 and "cannot reach" in result.output


def test_ui_binds_127_0_0_1_unless_asked(tmp_path):
    command = server_command(tmp_path, "127.0.0.1", 5000)
    assert command[command.index("--host") + 1] == "127.0.0.1"
    ui = cli.commands["ui"]
    assert next(p for p in ui.params if p.name == "host").default == "127.0.0.1"
    # a server tracking URI is opened, never replaced by the store's sqlite
    assert "sqlite" in " ".join(server_command(tmp_path, "127.0.0.1", 5000,
                                              "http://tracking:5000"))


def test_the_page_shows_the_trials_in_model_training_mode(ui_server, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("headless Chromium not installed (.ci/run installs it)")
    _, _, lines, _ = ui_server
    url = next(line.split(": ", 1)[1] for line in lines if line.startswith("MLflow UI"))
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=20000",
             "--window-size=2400,1000"]  # wide: the grid renders only the columns in view
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True,
                         timeout=180).stdout
    for trial in ("trial-0", "trial-1", "trial-2", "trial-3"):
        assert trial in dom
    for column in ("val_roc_auc", *PARAMETERS):
        assert column in dom, column
    assert "tags.campaign = &#39;tiny-4&#39;" in dom or "tags.campaign = 'tiny-4'" in dom
    assert "Model registry" in dom  # the model-training side bar ...
    assert "Evaluation runs" not in dom and "Judges" not in dom  # ... not the GenAI one
    assert "<strong>4</strong> matching runs" in dom  # the campaign's trials, not its parent
    shot = tmp_path / "ui.png"
    subprocess.run([*flags, f"--screenshot={shot}", url], capture_output=True, timeout=180)
    assert shot.exists() and shot.stat().st_size > 50_000
