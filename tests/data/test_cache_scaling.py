"""What makes preparation scale: the memory-mapped cache folder (identical arrays, written
atomically, loaded by workers), chunked vectorization, and a split without a Python call per
duplicate group."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pandas as pd
import pytest

from sentiment_core.data import (
    cache_path,
    leak_free_split,
    load_prepared,
    pipeline,
    prepare,
    vectorize,
)
from sentiment_core.data.splits import majority_labels

ARRAYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")


def assert_same(a, b) -> None:
    for name in ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    for split in ("train", "val", "test"):
        assert np.array_equal(a.rows[split], b.rows[split])
        assert np.array_equal(a.keys[split], b.keys[split])
    assert a.vocabulary == b.vocabulary and a.class_names == b.class_names
    assert a.fingerprint == b.fingerprint and a.fold_min_count == b.fold_min_count


def test_cache_folder_round_trips_memory_mapped(tiny_experiment, tmp_path):
    fresh = prepare(tiny_experiment, tmp_path, tmp_path / "cache")
    folder = cache_path(tmp_path / "cache", fresh.fingerprint)
    assert folder.is_dir() and sorted(p.suffix for p in folder.iterdir()) == [".npy"] * 15
    again = prepare(tiny_experiment, tmp_path, tmp_path / "cache")
    assert again.from_cache and not fresh.from_cache
    assert_same(fresh, again)
    for name in ARRAYS:  # read straight from the file, read-only: no copy made on load
        array = getattr(again, name)
        assert isinstance(array, np.memmap) and not array.flags.writeable
    assert all(isinstance(v, str) for v in again.vocabulary)
    for path in folder.iterdir():  # plain arrays: nothing needs pickle
        np.load(path, allow_pickle=False)
    assert_same(fresh, load_prepared(folder))


def _checksums(path: str) -> list[int]:
    data = load_prepared(path)
    return [int(np.asarray(getattr(data, name), np.int64).sum()) for name in ARRAYS] + [
        len(data.vocabulary)]


def test_a_spawned_worker_loads_the_cache(tiny_data, tmp_path):
    folder = cache_path(tmp_path / "cache", tiny_data.fingerprint)
    with mp.get_context("spawn").Pool(1) as pool:
        remote = pool.apply(_checksums, (str(folder),))
    assert remote == _checksums(str(folder))
    assert remote[:6] == [int(np.asarray(getattr(tiny_data, n), np.int64).sum()) for n in ARRAYS]


def test_cache_is_written_whole_or_not_at_all(tiny_experiment, tmp_path, monkeypatch):
    saved = []
    real_save = np.save

    def failing_save(path, array, **kwargs):
        if len(saved) == 3:
            raise OSError("disk full")
        saved.append(path)
        real_save(path, array, **kwargs)

    monkeypatch.setattr(pipeline.np, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        prepare(tiny_experiment, tmp_path, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # no cache, no partial folder left
    monkeypatch.setattr(pipeline.np, "save", real_save)
    data = prepare(tiny_experiment, tmp_path, tmp_path / "cache")
    assert not data.from_cache
    assert prepare(tiny_experiment, tmp_path, tmp_path / "cache").from_cache


def test_a_cache_written_meanwhile_is_kept(tiny_data, tmp_path):
    folder = cache_path(tmp_path / "cache", tiny_data.fingerprint)
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    pipeline._save_cache(folder, tiny_data)  # another process lost the race: no error
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]


def test_chunked_vectorization_equals_one_chunk():
    texts = [f"w{i % 7} w{i % 5} w{i % 3} extra{i}" for i in range(50)] + ["", "w1"]
    vocabulary = ["", "[UNK]", *[f"w{i}" for i in range(7)]]
    whole = vectorize(texts, vocabulary, 4, batch_size=10_000)
    for size in (1, 3, 7, 51, 52):
        assert np.array_equal(vectorize(texts, vocabulary, 4, batch_size=size), whole)
    series = pd.Series(texts, index=np.arange(100, 152))  # a Series slice, as prepare passes
    assert np.array_equal(vectorize(series, vocabulary, 4, batch_size=8), whole)
    assert whole.dtype == np.int32 and whole.shape == (52, 4)
    assert whole[0].tolist() == [2 + 0, 2 + 0, 2 + 0, 1] and whole[50].tolist() == [0] * 4
    assert vectorize([], vocabulary, 4).shape == (0, 4)


def _old_split(keys, labels, validation, test, seed):
    """The split before majority labels were counted in one pass (a pandas mode per group)."""
    from sklearn.model_selection import train_test_split

    frame = pd.DataFrame({"key": keys, "label": labels})
    group_of_row = frame.groupby("key", sort=False).ngroup().to_numpy()
    group_label = frame.groupby("key", sort=False)["label"].agg(lambda s: s.mode().iloc[0])
    groups = np.arange(len(group_label))
    rest, test_groups = train_test_split(groups, test_size=test, random_state=seed,
                                         stratify=group_label.to_numpy())
    train_groups, val_groups = train_test_split(
        rest, test_size=validation / (1 - test), random_state=seed,
        stratify=group_label.to_numpy()[rest])
    return [np.flatnonzero(np.isin(group_of_row, g)) for g in (train_groups, val_groups,
                                                                  test_groups)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_split_is_unchanged_by_the_one_pass_majority(seed):
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 400, 2000).tolist()
    labels = rng.integers(0, 3, 2000)
    new = leak_free_split(keys, labels, 0.15, 0.15, seed)
    old = _old_split(keys, labels, 0.15, 0.15, seed)
    for a, b in zip(new, old):
        assert np.array_equal(a, b)


def test_majority_label_ties_take_the_smallest_label():
    groups = np.array([0, 0, 1, 1, 1, 2, 2, 3])
    labels = np.array([2, 1, 0, 2, 2, 1, 2, 5])
    expected = pd.Series(labels).groupby(groups).agg(lambda s: s.mode().iloc[0]).to_numpy()
    assert majority_labels(groups, labels).tolist() == expected.tolist() == [1, 2, 1, 5]
