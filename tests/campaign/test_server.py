"""`sentiment-hpo server` (a real `mlflow server` on 127.0.0.1), and campaigns whose driver is
killed mid-flight under the local and Ray executors, resumed through that server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from sentiment_core.campaign import Search, Store, Tracker
from sentiment_core.experiments import load_experiment

from conftest import clean_env, experiment_dict, make_tweets, write_csv

CLI = str(Path(sys.executable).parent / "sentiment-hpo")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(store: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([CLI, "--store", str(store), "server", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=clean_env(), start_new_session=True)
    deadline, line = time.time() + 120, ""
    while "MLflow server:" not in line and time.time() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            raise RuntimeError("sentiment-hpo server exited")
    url = line.split("MLflow server:")[1].strip()
    assert url == f"http://127.0.0.1:{port}"
    return proc, url


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture
def server(tmp_path):
    store = tmp_path / "server-store"
    proc, url = start_server(store)
    yield store, url
    stop(proc)


def test_server_answers_health_and_keeps_runs_and_artifacts_in_the_store(server, tmp_path):
    store, url = server
    assert urllib.request.urlopen(f"{url}/health", timeout=10).status == 200
    # a client elsewhere: its own (empty) store folder, everything through the URL
    client = Tracker.open(tmp_path / "client-store", url)
    parent = client.start_campaign("exp", "c1", tags={}, params={"seed": 1},
                                   texts={"experiment.yaml": "name: exp\n"})
    client.end_run(parent)
    assert list((store / "artifacts").rglob("experiment.yaml"))  # proxied into the store
    assert not (tmp_path / "client-store" / "mlflow.db").exists()
    local = Tracker.open(store)  # the server's sqlite has the run
    assert local.find_campaign("c1").info.run_id == parent


def test_server_listens_on_localhost_unless_told(tmp_path):
    from sentiment_core.campaign import server_command

    command = server_command(tmp_path, "127.0.0.1", 5005, serve_artifacts=True)
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert "--serve-artifacts" in command
    assert command[command.index("--backend-store-uri") + 1].startswith("sqlite:///")
    assert command[-2:] == ["--app-name", "sentiment-hpo"]  # ui's landing page (ui_app)
    pg = server_command(tmp_path, "0.0.0.0", 5005, "postgresql://u@db/mlflow",
                        serve_artifacts=True)
    assert pg[pg.index("--backend-store-uri") + 1] == "postgresql://u@db/mlflow"


# ---- a killed driver, resumed -----------------------------------------------------------------


def killable_experiment(tmp_path: Path) -> Path:
    csv = write_csv(tmp_path / "tweets.csv", make_tweets(n=900))
    exp = experiment_dict(csv, name="killable")
    space = yaml.safe_load(Path(exp["search_space"]).read_text())
    space["fixed"]["num_epochs"] = 3  # long enough to be killed mid-trial
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(space))
    exp["search_space"] = str(tmp_path / "space.yaml")
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump(exp))
    return tmp_path / "exp.yaml"


@pytest.fixture
def ray_cluster():
    """A real one-node Ray cluster (2 CPUs), as `ray start --head` makes it on a cluster's
    head; its own temp folder, stopped through its own process group only."""
    pytest.importorskip("ray")
    port = free_port()
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # socket paths must stay short
    env = {**clean_env(), "RAY_AUTH_MODE": "token"}
    ray_cli = str(Path(sys.executable).parent / "ray")
    proc = subprocess.Popen(
        [ray_cli, "start", "--head", "--block", "--num-cpus=2", f"--port={port}",
         f"--temp-dir={temp}", "--include-dashboard=false", "--disable-usage-stats",
         "--object-store-memory=200000000"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        start_new_session=True)
    for line in proc.stdout:
        if "Ray runtime started" in line:
            break
    else:
        raise RuntimeError("ray start failed")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=120)
        import shutil

        shutil.rmtree(temp, ignore_errors=True)


def run_and_kill(command: list[str], env: dict[str, str], running: int) -> list[str]:
    """Start the campaign, SIGKILL it once `running` trials run at once; return its lines."""
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True, env=env)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if f"{running} running] trial" in line and "started" in line:
            time.sleep(3)  # well inside the trials' first epochs
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "".join(lines[-20:])
    return lines


def check_resumed(tmp_path: Path, tracker: Tracker, name: str, trials: int) -> None:
    experiment = load_experiment(tmp_path / "exp.yaml")
    states = Search.open(name, experiment.space, experiment.objective, experiment.optimizer,
                         experiment.seed, tmp_path / "store" / "ax.db").trials()
    statuses = [t["status"] for t in states]
    assert statuses.count("COMPLETED") == trials
    assert set(statuses) <= {"COMPLETED", "ABANDONED"} and "ABANDONED" in statuses
    keys = [tuple(sorted(t["params"].items())) for t in states]
    assert len(set(keys)) == len(keys)  # no parameterization trained twice
    parent = tracker.find_campaign(name)
    assert parent.info.status == "FINISHED"
    children = tracker.children(parent.info.run_id)
    finished = [r for r in children if r.info.status == "FINISHED"]
    assert len(finished) == trials
    assert sorted(r.info.status for r in children if r not in finished) == \
        ["KILLED"] * statuses.count("ABANDONED")
    assert not [r for r in children if r.info.status == "RUNNING"]
    # every finished child is one completed Ax trial, once
    indices = sorted(int(r.data.tags["ax_trial_index"]) for r in finished)
    assert indices == sorted(t["trial_index"] for t in states if t["status"] == "COMPLETED")


@pytest.mark.slow
def test_ray_campaign_through_the_server_survives_a_killed_driver(tmp_path, ray_cluster):
    store = tmp_path / "server-store"
    server, url = start_server(store)
    try:
        experiment = killable_experiment(tmp_path)
        command = [CLI, "--store", str(tmp_path / "store"), "--data-dir", str(tmp_path),
                   "--tracking-uri", url, "campaign", "run", str(experiment), "--trials", "4",
                   "--name", "k", "--executor", "ray", "--workers", "2",
                   "--ray-address", ray_cluster]
        env = clean_env()
        lines = run_and_kill(command, env, running=2)
        assert any("trial 1 (" in line for line in lines)
        resumed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert "abandoned" in resumed.stderr and "KILLED" in resumed.stderr
        check_resumed(tmp_path, Tracker.open(tmp_path / "client", url), "k", 4)
        # the runs live in the server's store; the driver's store holds only Ax and the cache
        assert not (tmp_path / "store" / "mlflow.db").exists()
        assert (store / "mlflow.db").exists()
        runs = Tracker.open(tmp_path / "client", url).trial_rows(
            Tracker.open(tmp_path / "client", url).find_campaign("k").info.run_id)
        assert {r["tags"]["executor"] for r in runs} == {"ray"}
        assert all(r["tags"].get("keras_backend") for r in runs if r["status"] == "FINISHED")
    finally:
        stop(server)


@pytest.mark.slow
def test_local_workers_end_with_a_killed_driver_and_the_campaign_resumes(tmp_path):
    psutil = pytest.importorskip("psutil")
    experiment = killable_experiment(tmp_path)
    command = [CLI, "--store", str(tmp_path / "store"), "--data-dir", str(tmp_path),
               "campaign", "run", str(experiment), "--trials", "3", "--name", "k",
               "--executor", "local", "--workers", "2"]
    env = clean_env()
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True, env=env)
    workers = []
    for line in proc.stderr:
        if "2 running] trial" in line and "started" in line:
            time.sleep(3)
            workers = psutil.Process(proc.pid).children(recursive=True)
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert workers, "no worker process seen"
    gone, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive, f"workers outlived their campaign: {alive}"
    resumed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    check_resumed(tmp_path, Store(tmp_path / "store", tmp_path).tracker(), "k", 3)


# ---- Postgres: Ax and MLflow in one database server ------------------------------------------

PG_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture
def postgres():
    """A private PostgreSQL cluster on 127.0.0.1 (trust auth), with databases `ax` and
    `mlflow`; skipped where PostgreSQL's initdb or the psycopg driver is missing."""
    import shutil

    pytest.importorskip("psycopg")
    bindir = PG_BIN if (PG_BIN / "initdb").exists() else None
    if bindir is None and shutil.which("initdb"):
        bindir = Path(shutil.which("initdb")).parent
    if bindir is None:
        pytest.skip("PostgreSQL (initdb) is not installed")
    root = Path(tempfile.mkdtemp(prefix="pg", dir="/tmp"))
    prefix = []
    if os.geteuid() == 0:  # initdb refuses root: run it as the postgres user
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser")
        shutil.chown(root, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()
    subprocess.run(prefix + [str(bindir / "initdb"), "-D", str(data), "--auth=trust",
                             "-U", "postgres", "-E", "UTF8"], check=True, capture_output=True)
    subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"),
                             "-w", "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1",
                             "start"], check=True, capture_output=True)
    try:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres",
                             autocommit=True) as db:
            for name in ("ax", "mlflow"):
                db.execute(f"create database {name}")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                                 "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_a_driver_on_another_machine_resumes_from_postgres(tmp_path, postgres):
    """Runs in MLflow (server on Postgres) and Ax state in Postgres: the campaign is killed
    with two trials in flight and resumed by a driver with an empty store folder."""
    server_store = tmp_path / "server-store"
    port = free_port()
    server = subprocess.Popen(
        [CLI, "--store", str(server_store), "server", "--port", str(port),
         "--backend-store-uri", f"{postgres}/mlflow"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=clean_env(),
        start_new_session=True)
    try:
        line, deadline = "", time.time() + 180
        while "MLflow server:" not in line and time.time() < deadline:
            line = server.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        experiment = killable_experiment(tmp_path)

        def command(store: str) -> list[str]:
            return [CLI, "--store", str(tmp_path / store), "--data-dir", str(tmp_path),
                    "--tracking-uri", url, "--ax-db", f"{postgres}/ax", "campaign", "run",
                    str(experiment), "--trials", "3", "--name", "pg", "--executor", "local",
                    "--workers", "2"]

        env = clean_env()
        run_and_kill(command("machine-a"), env, running=2)
        resumed = subprocess.run(command("machine-b"), capture_output=True, text=True, env=env,
                                 timeout=900)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert "was running when the last process ended: abandoned" in resumed.stderr
        assert not (tmp_path / "machine-b" / "ax.db").exists()  # Ax state came from Postgres
        exp = load_experiment(experiment)
        states = Search.open("pg", exp.space, exp.objective, exp.optimizer, exp.seed,
                             f"{postgres}/ax").trials()
        statuses = [t["status"] for t in states]
        assert statuses.count("COMPLETED") == 3 and statuses.count("ABANDONED") == 2
        tracker = Tracker.open(tmp_path / "client", url)
        parent = tracker.find_campaign("pg")
        assert parent.info.status == "FINISHED"
        children = tracker.children(parent.info.run_id)
        assert sorted(r.info.status for r in children) == ["FINISHED"] * 3 + ["KILLED"] * 2
    finally:
        stop(server)
