"""Tiny data the tests make themselves: no network, no shared files, 1-epoch trials."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest
import yaml

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "sentiment-hpo")  # the installed console script
POSITIVE = ["great", "love", "win", "strong", "honest", "best"]
NEGATIVE = ["bad", "hate", "lose", "weak", "liar", "worst"]
FILLER = ["debate", "tonight", "stage", "question", "answer", "vote", "people", "said", "the",
          "about", "policy", "tax", "border", "jobs", "crowd", "moderator"]


def make_tweets(n: int = 240, seed: int = 0) -> list[dict[str, str]]:
    """Short tweets whose sentiment word decides the label; every 10th is a retweet copy."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        if i % 10 == 9 and rows:
            source = rows[rng.randrange(len(rows))]
            rows.append({**source, "text": f"RT @fan{i}: {source['text']}"})
            continue
        positive = rng.random() < 0.4
        words = rng.sample(FILLER, rng.randint(3, 8))
        words.insert(rng.randrange(len(words) + 1), rng.choice(POSITIVE if positive else NEGATIVE))
        rows.append({
            "text": f"@user{i} " + " ".join(words) + (" http://t.co/x" if i % 3 == 0 else ""),
            "sentiment": "Positive" if positive else "Negative",
            "candidate": rng.choice(["Alice", "Bob"]),
        })
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    import pandas as pd

    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "tweets.csv", make_tweets())


# Overrides for the tests that train the seed's LSTM itself rather than the tiny default family.
LSTM = {"model": {"family": "lstm"}, "search_space": str(ROOT / "tests" / "tiny_lstm_space.yaml")}


def experiment_dict(csv: Path, **overrides) -> dict:
    exp = {
        "name": "tiny",
        "data": {"dataset": "csv", "path": str(csv), "text_column": "text",
                 "label_column": "sentiment", "group_column": "candidate",
                 "label_mapping": {"Negative": "negative", "Positive": "positive"}},
        "cleaning": ["rt_marker", "urls", "mentions", "lowercase", "punctuation"],
        "split": {"validation": 0.2, "test": 0.2},
        "vectorization": {"max_tokens": 100, "sequence_length": 12, "min_count": 1},
        "model": {"family": "avgpool"},
        "search_space": str(ROOT / "tests" / "tiny_space.yaml"),
        "objective": {"metric": "val_roc_auc", "direction": "maximize"},
        "budget": {"trials": 3},
        "seed": 7,
    }
    exp.update(overrides)
    return exp


@pytest.fixture
def write_experiment(tmp_path: Path, tiny_csv: Path):
    def write(**overrides) -> Path:
        path = tmp_path / "experiments" / "tiny.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.safe_dump(experiment_dict(tiny_csv, **overrides)))
        return path

    return write


@pytest.fixture
def tiny_experiment(write_experiment):
    from sentiment_core.experiments import load_experiment

    return load_experiment(write_experiment())


@pytest.fixture
def tiny_data(tiny_experiment, tmp_path: Path):
    from sentiment_core.data import prepare

    return prepare(tiny_experiment, tmp_path, tmp_path / "cache")


def clean_env() -> dict[str, str]:
    """The environment for a CLI subprocess, without an MLFLOW_TRACKING_URI that would
    redirect it away from the test's store."""
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return {**env, "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="session")
def finished(tmp_path_factory):
    """One 4-trial campaign on tiny data, shared by the tests that only read it: a test that
    adds runs, metrics or artifacts takes `finished_copy` instead, so that every test sees the
    same 4 trials whatever ran before it."""
    from sentiment_core.campaign import Store, run_campaign
    from sentiment_core.experiments import load_experiment

    root = tmp_path_factory.mktemp("campaign")
    csv = write_csv(root / "tweets.csv", make_tweets())
    (root / "exp.yaml").write_text(yaml.safe_dump(experiment_dict(csv)))
    experiment = load_experiment(root / "exp.yaml")
    store = Store(root / "store", root)
    summary = run_campaign(experiment, "tiny-4", 4, store, progress=lambda m: None)
    return experiment, store, summary


def copy_store(store, dest: Path):
    """A private copy of `store` at `dest`. MLflow records artifact locations as absolute URIs,
    so the copy's database is pointed at the copied artifacts: what a test logs to the copy
    never reaches the original."""
    from sentiment_core.campaign import Store

    shutil.copytree(store.path, dest)
    old, new = (store.path / "artifacts").resolve(), (dest / "artifacts").resolve()
    db = sqlite3.connect(dest / "mlflow.db")
    try:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = [c[1] for c in db.execute(f"PRAGMA table_info('{table}')")
                       if any(k in c[2].upper() for k in ("CHAR", "TEXT", "CLOB"))]
            for column in columns:
                for before, after in ((old.as_uri(), new.as_uri()), (str(old), str(new))):
                    db.execute(f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) '
                               f'WHERE instr("{column}", ?) > 0', (before, after, before))
        db.commit()
    finally:
        db.close()
    return Store(dest, store.data_dir, store.tracking_uri)


def forget_artifact_locations() -> None:
    """MLflow caches where each run's (and logged model's) artifacts live, by id alone, for the
    whole process. A copied store has the same ids at another place, so the cache is emptied
    whenever a test switches between the original and its copy."""
    from mlflow.tracking._tracking_service import utils

    getattr(utils, "_artifact_repos_cache", {}).clear()


@pytest.fixture
def finished_copy(finished, tmp_path):
    """The finished campaign in this test's own copy of the store (a few MB, no training)."""
    experiment, store, summary = finished
    copy = copy_store(store, tmp_path / "finished-store")
    forget_artifact_locations()
    yield experiment, copy, summary
    forget_artifact_locations()


@pytest.fixture(autouse=True, scope="session")
def mlflow_template(tmp_path_factory):
    """A new store's MLflow database starts as a copy of one already migrated empty database:
    MLflow builds a fresh sqlite file's tables in about 2.3 s (its alembic migrations), and the
    suite makes dozens of stores in-process. Same MLflow, same tables, same default experiment
    (this process's working directory is its artifact root either way); CLI subprocesses still
    build theirs."""
    from sentiment_core.campaign.store.tracking import Tracker

    real = Tracker.open.__func__
    template = tmp_path_factory.mktemp("mlflow-template")
    real(Tracker, template)

    def open_from_template(cls, store, tracking_uri=None):
        database = Path(store) / "mlflow.db"
        if tracking_uri is None and not database.exists():
            database.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(template / "mlflow.db", database)
        return real(cls, store, tracking_uri)

    Tracker.open = classmethod(open_from_template)
    yield
    Tracker.open = classmethod(real)
