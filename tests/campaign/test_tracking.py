"""What the MLflow adapter leaves behind: a model that reads raw text, and a UI that serves it."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.request

import pandas as pd
import pytest
from conftest import CLI, clean_env


def test_best_model_predicts_on_raw_text(finished):
    import mlflow

    _, store, summary = finished
    tracker = store.tracker()
    best_id = tracker.find_campaign("tiny-4").data.tags["best_run_id"]
    assert best_id == summary.best["run_id"]
    model = mlflow.pyfunc.load_model(tracker.client.get_run(best_id).data.tags["model_uri"])
    out = model.predict(pd.DataFrame(
        {"text": ["RT @x: great honest win tonight", "bad weak liar"]}))
    assert list(out.columns) == ["text", "p_positive", "label"]
    assert out["p_positive"].between(0, 1).all()


def test_logging_a_model_leaves_its_run_running(finished_copy):
    """The campaign finishes a trial's run only after Ax is told (campaign/records.py); logging
    the new best's model before that must not end the run (as `with mlflow.start_run` would)."""
    _, store, summary = finished_copy
    tracker = store.tracker()
    run_id = tracker.start_trial(summary.parent_run_id, "trial-x", {}, {"source": "test"})
    classifier = tracker.load_classifier(summary.best["run_id"])
    assert tracker.log_classifier(run_id, classifier)
    run = tracker.client.get_run(run_id)
    assert run.info.status == "RUNNING" and run.data.tags["model_uri"]


def test_ui_serves_the_campaign_on_localhost(finished):
    _, store, _ = finished
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([CLI, "--store", str(store.path), "ui", "tiny-4", "--port",
                             str(port)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=clean_env())
    try:
        line = ""
        deadline = time.time() + 90
        while "MLflow UI:" not in line and time.time() < deadline:
            line = proc.stdout.readline()
        # the landing page of the server's app plugin (campaign/ui_app.py)
        assert f"http://127.0.0.1:{port}/sentiment-hpo/open?experiment=" in line
        experiment_id = line.split("?experiment=")[1].split("&")[0]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/2.0/mlflow/runs/search",
            data=json.dumps({"experiment_ids": [experiment_id]}).encode(),
            headers={"Content-Type": "application/json"})
        runs = json.load(urllib.request.urlopen(request, timeout=10))["runs"]
        names = {r["info"]["run_name"] for r in runs}
        assert "tiny-4" in names and sum(n.startswith("trial-") for n in names) == 4
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    with pytest.raises(OSError):  # the server went with the command
        urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
