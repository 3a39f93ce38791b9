"""Campaigns with real Ax, a real sqlite MLflow store in a temporary folder, and tiny data."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from sentiment_core.campaign import CampaignStopped, run_campaign
from sentiment_core.campaign import Store
from sentiment_core.experiments import load_experiment
from sentiment_core.campaign import InlineExecutor
from sentiment_core.campaign import Search
from sentiment_core.trial import TrialFailed

from conftest import clean_env, experiment_dict, make_tweets, write_csv

CLI = str(Path(sys.executable).parent / "sentiment-hpo")


def test_four_trials_give_one_parent_and_four_children(finished):
    experiment, store, summary = finished
    tracker = store.tracker()
    assert len(tracker.campaigns()) == 1 and summary.completed == 4 and summary.failed == 0
    parent = tracker.find_campaign("tiny-4")
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["objective"] == "val_roc_auc"
    children = tracker.children(parent.info.run_id)
    assert len(children) == 4
    expected_params = set(experiment.space.parameters) | set(experiment.space.fixed)
    for run in children:
        tags, data = run.data.tags, run.data
        assert run.info.status == "FINISHED"
        assert set(data.params) == expected_params
        assert tags["campaign"] == "tiny-4" and tags["source"] == "campaign"
        assert tags["generation"] in {"Center", "Sobol", "BoTorch"}
        for key in ("ax_trial_index", "arm_name", "seed", "data_fingerprint", "git_commit"):
            assert tags[key]
        assert {"val_accuracy", "val_macro_f1", "val_roc_auc", "val_loss", "time_fit_s",
                "time_samples_per_s"} <= set(data.metrics)
        history = tracker.client.get_metric_history(run.info.run_id, "loss")
        assert [m.step for m in history] == [1]  # one per epoch, step = epoch
        artifacts = {a.path for a in tracker.client.list_artifacts(run.info.run_id)}
        assert {"learning_curves.png", "confusion_matrix.png", "config.yaml"} <= artifacts
    parent_files = {a.path for a in tracker.client.list_artifacts(parent.info.run_id)}
    assert {"table5.md", "table5.csv", "experiment.yaml", "search_space.yaml"} <= parent_files
    trials = Search.open("tiny-4", experiment.space, experiment.objective, experiment.optimizer,
                         experiment.seed, store.ax_db).trials()
    assert [t["status"] for t in trials] == ["COMPLETED"] * 4


def test_best_model_predicts_on_raw_text(finished):
    import mlflow

    _, store, summary = finished
    tracker = store.tracker()
    best_id = tracker.find_campaign("tiny-4").data.tags["best_run_id"]
    assert best_id == summary.best["run_id"]
    model = mlflow.pyfunc.load_model(tracker.client.get_run(best_id).data.tags["model_uri"])
    out = model.predict(__import__("pandas").DataFrame(
        {"text": ["RT @x: great honest win tonight", "bad weak liar"]}))
    assert list(out.columns) == ["text", "p_positive", "label"]
    assert out["p_positive"].between(0, 1).all()


def test_table_marks_the_best_row(finished):
    from click.testing import CliRunner

    from sentiment_core.cli import cli

    _, store, summary = finished
    result = CliRunner().invoke(cli, ["--store", str(store.path), "table", "tiny-4",
                                      "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    header = lines[0].split(",")
    assert header[:5] == ["best", "val_roc_auc", "best_epoch", "trial_index", "arm_name"]
    assert {"learning_rate", "lstm_units", "status", "generation", "wall_s"} <= set(header)
    assert len(lines) == 5 and sum(line.startswith("*") for line in lines) == 1


def test_reproduce_gives_the_identical_metric(finished):
    from sentiment_core.campaign import reproduce_trial

    _, store, _ = finished
    report = reproduce_trial(store, "tiny-4", "best", extra_seeds=2, progress=lambda m: None)
    assert report.identical, (report.stored, report.reproduced)
    assert len(report.other_seeds) == 2
    assert set(report.test_metrics) >= {"test_accuracy", "test_macro_f1"}
    run = store.tracker().client.get_run(report.run_id)
    assert run.data.tags["reproduces"] == report.source_run_id
    assert run.data.tags["source"] == "reproduce"


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
        assert f"http://127.0.0.1:{port}/#/experiments/" in line
        experiment_id = line.split("/#/experiments/")[1].split("/")[0]
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


class FailSecond(InlineExecutor):
    calls = 0

    def run(self, *args, **kwargs):
        FailSecond.calls += 1
        if FailSecond.calls == 2:
            raise TrialFailed("the training loss became NaN")
        return super().run(*args, **kwargs)


def test_a_failing_trial_does_not_stop_the_campaign(tiny_experiment, tmp_path):
    store = Store(tmp_path / "store", tmp_path)
    summary = run_campaign(tiny_experiment, "with-failure", 3, store, executor=FailSecond(),
                           progress=lambda m: None)
    assert summary.completed == 3 and summary.failed == 1
    runs = store.tracker().children(summary.parent_run_id)
    failed = [r for r in runs if r.info.status == "FAILED"]
    assert len(failed) == 1 and "NaN" in failed[0].data.tags["error"]
    statuses = [t["status"] for t in Search.open(
        "with-failure", tiny_experiment.space, tiny_experiment.objective,
        tiny_experiment.optimizer, 0, store.ax_db).trials()]
    assert statuses.count("FAILED") == 1 and statuses.count("COMPLETED") == 3


def test_too_many_failures_stop_the_campaign(write_experiment, tmp_path):
    experiment = load_experiment(write_experiment(budget={"trials": 3, "max_failure_rate": 0.0}))
    FailSecond.calls = 1  # the next call fails
    store = Store(tmp_path / "store", tmp_path)
    with pytest.raises(CampaignStopped):
        run_campaign(experiment, "fragile", 3, store, executor=FailSecond(),
                     progress=lambda m: None)
    assert store.tracker().find_campaign("fragile").info.status == "FAILED"


def test_sigkill_mid_trial_then_resume(tmp_path):
    csv = write_csv(tmp_path / "tweets.csv", make_tweets(n=900))
    exp = experiment_dict(csv, name="killable")
    space = yaml.safe_load((Path(exp["search_space"])).read_text())
    space["fixed"]["num_epochs"] = 4  # long enough to be killed mid-trial
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(space))
    exp["search_space"] = str(tmp_path / "space.yaml")
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump(exp))
    command = [CLI, "--store", str(tmp_path / "store"), "--data-dir", str(tmp_path),
               "campaign", "run", str(tmp_path / "exp.yaml"), "--trials", "3", "--name", "k"]
    env = clean_env()
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True, env=env)
    for line in proc.stderr:  # kill as soon as the second trial has started
        if "] trial 1 (" in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    resumed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "abandoned" in resumed.stderr and "KILLED" in resumed.stderr

    experiment = load_experiment(tmp_path / "exp.yaml")
    trials = Search.open("k", experiment.space, experiment.objective, experiment.optimizer,
                         experiment.seed, Path(tmp_path / "store" / "ax.db")).trials()
    completed = [t for t in trials if t["status"] == "COMPLETED"]
    assert len(completed) == 3
    assert [t["status"] for t in trials if t["trial_index"] == 1] == ["ABANDONED"]
    keys = [tuple(sorted(t["params"].items())) for t in trials]
    assert len(set(keys)) == len(keys)  # no parameterization trained twice
    tracker = Store(tmp_path / "store", tmp_path).tracker()
    parent = tracker.find_campaign("k")
    statuses = sorted(r.info.status for r in tracker.children(parent.info.run_id))
    assert statuses == ["FINISHED"] * 3 + ["KILLED"]
    assert parent.info.status == "FINISHED"


def test_attach_seed_table_rows_are_shown_but_never_best(write_experiment, tmp_path):
    space = {"parameters": {
        "learning_rate": {"type": "float", "bounds": [1e-4, 0.3], "log_scale": True},
        "dropout_rate": {"type": "float", "bounds": [0.0, 0.5]},
        "lstm_units": {"type": "int", "bounds": [1, 10]},
        "neurons_dense": {"type": "int", "bounds": [1, 20]},
        "num_epochs": {"type": "int", "bounds": [1, 7]},
        "batch_size": {"type": "int", "bounds": [700, 900]},
        "embedding_size": {"type": "int", "bounds": [8, 700], "log_scale": True}}}
    (tmp_path / "table5.yaml").write_text(yaml.safe_dump(space))
    experiment = load_experiment(write_experiment(search_space=str(tmp_path / "table5.yaml")))
    store = Store(tmp_path / "store", tmp_path)
    summary = run_campaign(experiment, "with-paper", 2, store, attach_seed_table=True,
                           progress=lambda m: None)
    assert summary.completed == 2 and summary.best["tags"]["source"] == "campaign"
    runs = store.tracker().trial_rows(summary.parent_run_id)
    paper = [r for r in runs if r["tags"]["source"] == "paper"]
    assert len(paper) == 10 and all("paper_keras_cv" in r["metrics"] for r in paper)
    assert max(r["metrics"]["paper_keras_cv"] for r in paper) == 0.980021
    trials = Search.open("with-paper", experiment.space, experiment.objective,
                         experiment.optimizer, experiment.seed, store.ax_db).trials()
    assert [t["generation"] for t in trials].count("attached") == 10
    assert "paper_keras_cv" in summary.table and summary.table.count("*") == 1


def test_attach_seed_table_needs_a_covering_space(tiny_experiment, tmp_path):
    from sentiment_core.errors import InputError

    store = Store(tmp_path / "store", tmp_path)
    with pytest.raises(InputError) as err:
        run_campaign(tiny_experiment, "no-cover", 2, store, attach_seed_table=True,
                     progress=lambda m: None)
    assert err.value.field.startswith("parameters.")
    assert store.tracker().find_campaign("no-cover") is None
    assert not Search.exists("no-cover", store.ax_db)


def test_list_and_status_commands(finished):
    from click.testing import CliRunner

    from sentiment_core.cli import cli

    _, store, _ = finished
    runner = CliRunner()
    listed = runner.invoke(cli, ["--store", str(store.path), "campaign", "list"])
    assert listed.exit_code == 0 and "tiny-4" in listed.output and "FINISHED" in listed.output
    status = runner.invoke(cli, ["--store", str(store.path), "campaign", "status", "tiny-4"])
    assert status.exit_code == 0, status.output
    assert "4 finished" in status.output and "best: trial" in status.output
    missing = runner.invoke(cli, ["--store", str(store.path), "campaign", "status", "nope"])
    assert missing.exit_code == 2 and "no campaign named 'nope'" in missing.output


def test_random_strategy_never_uses_botorch(write_experiment, tmp_path):
    experiment = load_experiment(write_experiment(
        optimizer={"strategy": "random", "initialization_trials": 1}))
    store = Store(tmp_path / "store", tmp_path)
    run_campaign(experiment, "random", 3, store, progress=lambda m: None)
    generations = [t["generation"] for t in Search.open(
        "random", experiment.space, experiment.objective, experiment.optimizer,
        experiment.seed, store.ax_db).trials()]
    assert len(generations) == 3 and "BoTorch" not in generations
