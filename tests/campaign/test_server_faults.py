"""The MLflow server goes away mid-campaign (slow): MLflow retries each request with backoff,
then the campaign stops with one line (exit 1); with the server back, the campaign resumes,
completes, and Ax and MLflow agree about every trial."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from conftest import ROOT, clean_env
from test_server import killable_experiment, start_server, stop

from sentiment_core.campaign import Search, Tracker, check_agreement
from sentiment_core.experiments import load_experiment

RETRIES = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
           "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}  # defaults: 7 retries, 2 s factor, 120 s


@pytest.mark.slow
def test_a_server_that_goes_away_stops_the_campaign_cleanly_and_it_resumes(tmp_path):
    server_store = tmp_path / "server-store"
    experiment_file = killable_experiment(tmp_path)

    def command(url: str) -> list[str]:
        return [sys.executable, "-m", "sentiment_core.cli", "--store", str(tmp_path / "store"),
                "--data-dir", str(tmp_path), "--tracking-uri", url, "campaign", "run",
                str(experiment_file), "--trials", "3", "--name", "away"]

    env = {**clean_env(), **RETRIES}
    server, url = start_server(server_store)
    try:
        proc = subprocess.Popen(command(url), stderr=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if "] trial 1 (" in line:  # trial 0 recorded, trial 1 training
                stop(server)
                gone = time.perf_counter()
                break
        lines += proc.stderr.readlines()
        assert proc.wait(timeout=300) == 1, "".join(lines[-20:])
        waited = time.perf_counter() - gone
        last = lines[-1].strip()
        assert last == (f"Error: campaign away stopped: the MLflow server {url} does not "
                        "answer (retried with backoff); start it again and rerun this command "
                        "to resume"), "".join(lines[-20:])
    finally:
        stop(server)

    server, url = start_server(server_store)  # back, on another port
    try:
        resumed = subprocess.run(command(url), capture_output=True, text=True, env=env,
                                 cwd=ROOT, timeout=900, check=False)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        experiment = load_experiment(experiment_file)
        search = Search.open("away", experiment.space, experiment.objective,
                             experiment.optimizer, experiment.seed, tmp_path / "store" / "ax.db")
        tracker = Tracker.open(tmp_path / "client", url)
        parent = tracker.find_campaign("away")
        assert parent.info.status == "FINISHED"
        assert check_agreement(search, tracker, parent.info.run_id, "val_roc_auc") == []
        statuses = [t["status"] for t in search.trials()]
        assert statuses.count("COMPLETED") == 3 and "ABANDONED" in statuses
        assert tracker.load_classifier(parent.data.tags["best_run_id"]) is not None
        print(f"\nserver away: the campaign stopped {waited:.0f} s after the server did")
    finally:
        stop(server)
