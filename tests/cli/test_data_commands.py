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
                 "--param", "lstm_units=3", "--param", "length_buckets=2", "--seed", "5")
    assert result.exit_code == 0, result.output
    assert "val_macro_f1" in result.output and "train_samples_per_s" in result.output
    assert "lstm_units=3" in result.output and "length_buckets=2" in result.output
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
