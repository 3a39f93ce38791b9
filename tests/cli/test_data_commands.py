"""`data fetch`, `data inspect` and `train`."""

import hashlib

from click.testing import CliRunner

from sentiment_core.cli import cli
from sentiment_core.data import registry as datasets


def run(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_inspect_prints_the_eda(write_experiment, tmp_path):
    result = run("--data-dir", str(tmp_path), "data", "inspect", str(write_experiment()))
    assert result.exit_code == 0, result.output
    assert "rows read           240" in result.output
    assert "suggested sequence_length" in result.output and "Alice" in result.output


def test_train_one_epoch(write_experiment, tmp_path):
    # a training option the space leaves at its default is settable too, typed by its default
    result = run("--store", str(tmp_path / "store"), "train", str(write_experiment()),
                 "--param", "neurons_dense=3", "--param", "length_buckets=2", "--seed", "5")
    assert result.exit_code == 0, result.output
    assert "val_macro_f1" in result.output and "train_samples_per_s" in result.output
    assert "neurons_dense=3" in result.output and "length_buckets=2" in result.output
    assert list((tmp_path / "store" / "cache").glob("*/x_train.npy"))


def test_fetch_checks_sha256(tmp_path, monkeypatch):
    source = tmp_path / "remote.csv"
    source.write_text("text,label\nhello,pos\n")
    good = datasets.Dataset(name="toy", filename="toy.csv",
                            sha256=hashlib.sha256(source.read_bytes()).hexdigest(),
                            text_column="text", label_column="label",
                            label_mapping={"pos": "positive"}, url=source.as_uri())
    monkeypatch.setitem(datasets.REGISTRY, "toy", good)
    result = run("--data-dir", str(tmp_path / "data"), "data", "fetch", "toy")
    assert result.exit_code == 0 and (tmp_path / "data" / "toy.csv").exists()
    monkeypatch.setitem(datasets.REGISTRY, "bad", datasets.Dataset(
        **{**good.__dict__, "name": "bad", "filename": "bad.csv", "sha256": "0" * 64}))
    result = run("--data-dir", str(tmp_path / "data"), "data", "fetch", "bad")
    assert result.exit_code == 2 and "sha256" in result.output
    assert not list((tmp_path / "data").glob("bad*"))


def test_split_writes_auditable_files_and_inspect_prints_the_near_copy_rate(
        write_experiment, tmp_path):
    import pandas as pd

    from sentiment_core.data import split_files_leakage

    path = write_experiment(objective={"metric": "val_roc_auc", "direction": "maximize",
                                       "folds": 2})
    out = tmp_path / "split"
    result = run("--data-dir", str(tmp_path), "data", "split", str(path), "--out", str(out))
    assert result.exit_code == 0, result.output
    frames = {p.stem: pd.read_csv(p) for p in out.glob("*.csv")}
    assert set(frames) == {"train", "val", "test", "fold1_train", "fold1_val", "fold2_train",
                           "fold2_val"}
    assert list(frames["train"].columns) == ["row", "text", "clean", "label", "class",
                                             "group_id"]
    rows = [set(frames[s]["row"]) for s in ("train", "val", "test")]
    assert not (rows[0] & rows[1] or rows[0] & rows[2] or rows[1] & rows[2])
    groups = [set(frames[s]["group_id"]) for s in ("train", "val", "test")]
    assert not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])
    assert set(frames["fold1_train"]["row"]) | set(frames["fold1_val"]["row"]) == \
        rows[0] | rows[1]
    # every 10th tiny tweet is a retweet copy: none of them leaks, read from the files
    assert all(v["near_copies"] == 0 for v in split_files_leakage(out).values())
    result = run("--data-dir", str(tmp_path), "data", "inspect", str(path))
    assert result.exit_code == 0 and "are near-copies of a train row" in result.output


def test_split_refuses_a_file_as_out(write_experiment, tmp_path):
    target = tmp_path / "taken.csv"
    target.write_text("x\n")
    result = run("--data-dir", str(tmp_path), "data", "split", str(write_experiment()),
                 "--out", str(target))
    assert result.exit_code == 2 and "--out" in result.output
    assert len(result.output.strip().splitlines()) == 1 and target.read_text() == "x\n"
