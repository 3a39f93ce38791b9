"""`sentiment-hpo ui NAME`: a real wrapper process and MLflow server on the finished tiny
campaign; the printed links rendered in headless Chromium (skipped without it), each in a fresh
browser profile as a new user opens them: the trials in Model-training mode with the objective
and the parameters as columns, nothing in the way (no MLflow Assistant panel, no shared-view
banner), and the search's charts."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT, clean_env
from sentiment_core.campaign import MlflowRest, server_command
from sentiment_core.cli import cli

PARAMETERS = ["learning_rate", "dropout_rate", "neurons_dense", "embedding_size",
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


def printed(lines: list[str], label: str) -> str:
    return next(line.split(": ", 1)[1] for line in lines if line.startswith(label))


def test_ui_prints_the_model_training_link_and_stays_small(ui_server):
    process, port, lines, store = ui_server
    url = printed(lines, "MLflow UI")
    # the landing page of the server's app plugin (ui_app), same origin as MLflow's UI
    assert url.startswith(f"http://127.0.0.1:{port}/sentiment-hpo/open?experiment="), url
    assert "&view=campaign-tiny-4" in url
    assert printed(lines, "Search charts") == url + "&charts=1"
    assert any("columns val_roc_auc, " + ", ".join(PARAMETERS) in line for line in lines)
    # the wrapper only waits for the server: no TensorFlow, Ax or MLflow in it
    assert rss_kb(process.pid) < 100_000, rss_kb(process.pid)
    server = children(process.pid)
    assert server, "no server process"
    command = Path(f"/proc/{server[0]}/cmdline").read_bytes().split(b"\0")
    assert command[command.index(b"--host") + 1] == b"127.0.0.1"  # bound locally unless asked
    # the experiment is tagged as model training and holds the saved view
    api = MlflowRest(f"http://127.0.0.1:{port}")
    experiment_id = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["experiment"][0]
    tags = api.experiment_tags(experiment_id)
    assert tags["mlflow.experimentKind"] == "custom_model_development"
    view = json.loads(tags["mlflow.sharedViewState.campaign-tiny-4"])
    state = json.loads(view["state"])
    assert state["selectedColumns"] == ["metrics.`val_roc_auc`",
                                        *(f"params.`{p}`" for p in PARAMETERS)]
    assert state["orderByKey"] == "metrics.`val_roc_auc`" and state["orderByAsc"] is False
    parallel = next(c for c in state["compareRunCharts"] if c["type"] == "PARALLEL")
    # the tuned parameters (the fixed num_epochs and batch_size would be flat axes)
    assert parallel["selectedParams"] == PARAMETERS[:4]
    assert parallel["selectedMetrics"] == ["val_roc_auc"]
    assert "val_roc_auc_sd" not in view["state"]  # one unit per trial: no spread to show
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


def chromium(profile: Path, size: str, budget_ms: int = 20000) -> list[str]:
    """Headless Chromium on a fresh profile (a new user's browser) at `size` pixels, given
    `budget_ms` of (virtual) time to load and run the page."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("headless Chromium not installed (.ci/run installs it)")
    return [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}",
            f"--window-size={size}"]


class _Text(HTMLParser):
    """The text a reader sees: the DOM's text outside scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.hidden -= tag in ("script", "style")

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.parts.append(data.strip())


def page_text(url: str, profile: Path, shot: Path | None = None, size: str = "1600,1000",
              budget_ms: int = 20000) -> str:
    """The rendered page's text (links followed, scripts run) in a fresh profile; with `shot`,
    a screenshot of the page too (another fresh profile, the same first visit)."""
    flags = chromium(profile, size, budget_ms)
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True,
                         timeout=180, check=False).stdout
    if shot is not None:
        again = chromium(profile.with_name(profile.name + "-shot"), size, budget_ms)
        subprocess.run([*again, f"--screenshot={shot}", url], capture_output=True, timeout=180,
                       check=False)
    reader = _Text()
    reader.feed(dom)
    return " ".join(reader.parts)


SHARED_VIEW_BANNER = "You're viewing a shared view"
ASSISTANT_PANEL = "Ask questions about your experiments"  # the open panel's greeting


def test_the_printed_link_opens_on_the_trials_with_nothing_in_the_way(ui_server, tmp_path):
    _, port, lines, _ = ui_server
    url = printed(lines, "MLflow UI")
    shot = tmp_path / "trials.png"
    text = page_text(url, tmp_path / "fresh", shot)
    for trial in ("trial-0", "trial-1", "trial-2", "trial-3"):
        assert trial in text, text[:3000]
    assert "4 matching runs" in text and "Sort: val_roc_auc" in text
    for column in ("val_roc_auc", *PARAMETERS[:4]):  # those in view at 1600 pixels
        assert column in text, column
    assert SHARED_VIEW_BANNER not in text and "Exit shared view" not in text
    assert ASSISTANT_PANEL not in text
    assert shot.exists() and shot.stat().st_size > 50_000
    # the control: MLflow's own link to the same saved view, in another fresh profile, shows
    # both (so the markers above are the right ones, and the landing page removes them)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    shared = (f"http://127.0.0.1:{port}/#/experiments/{query['experiment'][0]}/runs?"
              f"viewStateShareKey={query['view'][0]}&workflowType=machine_learning")
    text = page_text(shared, tmp_path / "fresh-control")
    assert SHARED_VIEW_BANNER in text and ASSISTANT_PANEL in text, text[:3000]


def test_the_charts_link_shows_the_search(ui_server, tmp_path):
    _, _, lines, _ = ui_server
    shot = tmp_path / "charts.png"
    # the chart library loads after the page: more time than the table needs
    text = page_text(printed(lines, "Search charts"), tmp_path / "fresh", shot,
                     budget_ms=60000)
    assert "Parallel Coordinates" in text and "Showing all runs" in text, text[:3000]
    assert "tiny-4: the parameters against val_roc_auc" in text
    assert "tiny-4: val_roc_auc by trial and per parameter" in text
    parallel = text.split("Showing all runs", 1)[1].split("tiny-4: val_roc_auc by trial")[0]
    for axis in (*PARAMETERS[:4], "val_roc_auc"):  # the tuned ones; fixed ones are flat
        assert axis in parallel, axis
    assert "num_epochs" not in parallel and "batch_size" not in parallel
    # cards render as they scroll into view: the first of one per parameter is in view
    assert "learning_rate vs. val_roc_auc" in text
    for trial in ("trial-0", "trial-1", "trial-2", "trial-3"):
        assert trial in text
    assert ASSISTANT_PANEL not in text and SHARED_VIEW_BANNER not in text
    assert shot.exists() and shot.stat().st_size > 50_000


def test_the_page_shows_the_trials_in_model_training_mode(ui_server, tmp_path):
    _, _, lines, _ = ui_server
    url = printed(lines, "MLflow UI")
    # wide: the grid renders only the columns in view
    flags = chromium(tmp_path / "profile", "2400,1000")
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True,
                         timeout=180, check=False).stdout
    for trial in ("trial-0", "trial-1", "trial-2", "trial-3"):
        assert trial in dom
    for column in ("val_roc_auc", *PARAMETERS):
        assert column in dom, column
    assert "tags.campaign = &#39;tiny-4&#39;" in dom or "tags.campaign = 'tiny-4'" in dom
    assert "Model registry" in dom  # the model-training side bar ...
    assert "Evaluation runs" not in dom and "Judges" not in dom  # ... not the GenAI one
    assert "<strong>4</strong> matching runs" in dom  # the campaign's trials, not its parent


def test_the_landing_page_writes_what_the_installed_mlflow_ui_reads():
    """The facts ui_app relies on, read from the installed MLflow's UI bundle (no browser): a
    release that renames a key fails here first (pyproject.toml pins the checked range)."""
    import importlib.util

    from sentiment_core.campaign.serving.ui_app import (
        ASSISTANT_OPEN,
        ASSISTANT_SHOWN,
        EXPERIMENT_STATE,
        URL_FACETS,
        landing_page,
    )

    build = Path(importlib.util.find_spec("mlflow").origin).parent / "server/js/build/static/js"
    bundle = "".join(p.read_text(errors="replace") for p in sorted(build.glob("*.js")))
    for key in (ASSISTANT_SHOWN, ASSISTANT_OPEN):  # useLocalStorage: `${key}_v${version}`
        name, version = key.rsplit("_v", 1)
        assert f'key:"{name}",version:{version}' in bundle, key
    assert "=>`${e}_v${t}`" in bundle
    # LocalStorageStore: ["MLflowLocalStorage", version, scope, key].join("-")
    assert EXPERIMENT_STATE.startswith("MLflowLocalStorage-1.1-ExperimentPage-")
    assert '["MLflowLocalStorage",' in bundle and '.version="1.1"' in bundle
    assert 'getStoreForComponent("ExperimentPage",' in bundle
    assert 'reactComponentStateKey="ReactComponentState"' in bundle
    assert json.dumps(list(URL_FACETS), separators=(",", ":")) in bundle
    page = landing_page()
    assert ASSISTANT_SHOWN in page and ASSISTANT_OPEN in page and "ExperimentPage" in page
