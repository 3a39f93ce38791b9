"""`prepare`: leak-free splits, a train-only vocabulary, the cache, and clear errors for bad
data."""

import numpy as np
import pandas as pd
import pytest

from sentiment_core.data import duplicate_key, prepare
from sentiment_core.errors import InputError
from sentiment_core.experiments import load_experiment


def test_splits_are_leak_free_stratified_and_seeded(tiny_experiment, tmp_path):
    data = prepare(tiny_experiment, tmp_path, None)
    frame = pd.read_csv(tiny_experiment.data.path, dtype=str)
    keys = {split: {duplicate_key(t) for t in frame["text"].iloc[data.rows[split]]}
            for split in ("train", "val", "test")}
    assert not keys["train"] & keys["val"] and not keys["train"] & keys["test"]
    assert not keys["val"] & keys["test"]
    for y in (data.y_train, data.y_val, data.y_test):
        assert set(np.unique(y)) == {0, 1}
    assert abs(data.y_val.mean() - data.y_train.mean()) < 0.15
    again = prepare(tiny_experiment, tmp_path, None)
    assert np.array_equal(again.rows["test"], data.rows["test"])


def test_vocabulary_comes_from_train_only(write_experiment, tiny_csv, tmp_path):
    frame = pd.read_csv(tiny_csv, dtype=str)
    frame.loc[len(frame)] = ["zebra unseen words", "Positive", "Alice"]
    frame.to_csv(tiny_csv, index=False)
    data = prepare(load_experiment(write_experiment()), tmp_path, None)
    split_of_zebra = [s for s, rows in data.rows.items() if len(frame) - 1 in rows][0]
    assert ("zebra" in data.vocabulary) == (split_of_zebra == "train")
    assert data.vocabulary[:2] == ["", "[UNK]"]
    assert data.x_train.shape[1] == 12 and data.x_train.dtype == np.int32
    assert (data.x_train[:, -1] == 0).mean() > 0.5  # short tweets: padding at the end


def test_cache_reused_and_keyed_by_recipe(write_experiment, tmp_path):
    first = prepare(load_experiment(write_experiment()), tmp_path, tmp_path / "cache")
    second = prepare(load_experiment(write_experiment()), tmp_path, tmp_path / "cache")
    assert not first.from_cache and second.from_cache
    assert np.array_equal(first.x_val, second.x_val) and first.vocabulary == second.vocabulary
    other = prepare(load_experiment(write_experiment(cleaning=["lowercase"])), tmp_path,
                    tmp_path / "cache")
    assert other.fingerprint != first.fingerprint and not other.from_cache
    assert len(list((tmp_path / "cache").glob("*/x_train.npy"))) == 2


@pytest.mark.parametrize("change, field, words", [
    ({"text_column": "body"}, "body", "no such column"),
    ({"label_mapping": {"Negative": "negative"}}, "sentiment", "not in label_mapping"),
    ({"label_mapping": {"Negative": "negative", "Positive": "negative"}}, "sentiment",
     "only one class"),
])
def test_bad_data_is_one_clear_error(write_experiment, tiny_csv, tmp_path, change, field, words):
    data = {"dataset": "csv", "path": str(tiny_csv), "text_column": "text",
            "label_column": "sentiment", "label_mapping": {"Negative": "negative",
                                                           "Positive": "positive"}}
    exp = load_experiment(write_experiment(data={**data, **change}))
    with pytest.raises(InputError) as err:
        prepare(exp, tmp_path, tmp_path / "cache")
    assert err.value.where == str(tiny_csv) and err.value.field == field
    assert words in err.value.message
    assert not (tmp_path / "cache").exists()  # nothing written


def test_too_few_rows_for_the_split(write_experiment, tiny_csv, tmp_path):
    pd.read_csv(tiny_csv).head(6).to_csv(tiny_csv, index=False)
    with pytest.raises(InputError) as err:
        prepare(load_experiment(write_experiment()), tmp_path, tmp_path / "cache")
    assert err.value.field == "split" and "too few" in err.value.message


def test_undecodable_and_missing_files(write_experiment, tiny_csv, tmp_path):
    tiny_csv.write_bytes("text,sentiment\n\"caf\xe9\",Positive\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        prepare(load_experiment(write_experiment()), tmp_path, None)
    exp = load_experiment(write_experiment(data={"dataset": "gop-debate"}))
    with pytest.raises(InputError) as err:
        prepare(exp, tmp_path / "nowhere", None)
    assert "DATA_DIR=" in err.value.message and "data fetch gop-debate" in err.value.message


def test_all_empty_texts_are_bad_input(write_experiment, tiny_csv, tmp_path):
    frame = pd.read_csv(tiny_csv, dtype=str)
    frame["text"] = "   "
    frame.to_csv(tiny_csv, index=False)
    with pytest.raises(InputError) as err:
        prepare(load_experiment(write_experiment()), tmp_path, tmp_path / "cache")
    assert err.value.field == "text" and "empty" in err.value.message
