"""With folds, each fold's vocabulary comes from its own fit rows: a word seen only in a fold's
held-out rows is out-of-vocabulary to that fold's model, in training and afterwards."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from tests.conftest import experiment_dict, make_tweets, write_csv


@pytest.fixture
def folded(tmp_path):
    """Tiny tweets where every 5th carries a word of its own (and its retweets), prepared for a
    3-fold objective."""
    from sentiment_core.data import prepare
    from sentiment_core.experiments import load_experiment

    rows = make_tweets()
    for i, row in enumerate(rows):
        if i % 5 == 0:
            row["text"] += f" rare{i}"
    csv = write_csv(tmp_path / "tweets.csv", rows)
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(experiment_dict(
        csv, objective={"metric": "val_roc_auc", "direction": "maximize", "folds": 3})))
    experiment = load_experiment(path)
    return experiment, prepare(experiment, tmp_path, tmp_path / "cache")


def test_each_fold_knows_the_words_of_its_own_fit_rows_only(folded, tmp_path):
    from sentiment_core.data import build_vocabulary, cross_validation_folds, load_labeled

    experiment, data = folded
    clean = load_labeled(experiment, tmp_path).frame.set_index("row")["clean"]
    v = experiment.vectorization
    held_out_only = 0
    for view in cross_validation_folds(data, 3, seed=experiment.seed):
        known = {data.vocabulary[i] for i in np.flatnonzero(view.token_keep)} - {"", "[UNK]"}
        own = build_vocabulary(clean.loc[view.rows["train"]], v.max_tokens, v.min_count)
        assert known == set(own[2:])
        held = {t for text in clean.loc[view.rows["val"]] for t in text.split()}
        held_out_only += len(held - known)
    assert held_out_only > 0  # the fixture has words only a fold's held-out rows hold


def test_a_fold_model_reads_unknown_words_as_out_of_vocabulary(folded):
    from sentiment_core.data import cross_validation_folds
    from sentiment_core.trial import fold_inputs, run_trial

    experiment, data = folded
    view = cross_validation_folds(data, 3, seed=experiment.seed)[0]
    unknown = np.flatnonzero(~view.token_keep)
    assert len(unknown)
    result = run_trial(experiment.space.defaults(), view, seed=1,
                       family=experiment.model.family)
    table = result.model.get_layer(index=1).get_weights()[0]
    assert np.allclose(table[unknown], table[1])
    # the full ids (what the ensemble and the test split feed) give what training saw
    full = view.x_val
    assert np.allclose(result.model.predict(full, verbose=0),
                       result.model.predict(fold_inputs(full, view.token_keep), verbose=0))
    assert (fold_inputs(full, view.token_keep) != full).any()
