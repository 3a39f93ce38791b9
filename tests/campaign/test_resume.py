"""A campaign killed mid-trial resumes where it stopped."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import CLI, clean_env, experiment_dict, make_tweets, write_csv

from sentiment_core.campaign import Search, Store
from sentiment_core.experiments import load_experiment


# slow, beside the kill matrix (24 kills, test_kill_points); the fast tier resumes after
# interruptions between the records (test_faults)
@pytest.mark.slow
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
    resumed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300,
                             check=False)
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
