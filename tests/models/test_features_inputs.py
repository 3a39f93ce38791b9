"""Seed 004's features family: the features branch sees identically prepared inputs in training,
in evaluation on a prepared split and in `predict` on raw text, and its scaler is fitted on the
training rows only and travels inside the saved model."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import sentiment_core.trial as trial_module
from conftest import experiment_dict, make_tweets, write_csv
from sentiment_core.data import (
    feature_scaler,
    make_cleaner,
    prepare,
    split_texts,
    token_features,
    vectorize,
)
from sentiment_core.evaluation import TextClassifier
from sentiment_core.experiments import load_experiment
from sentiment_core.models import FAMILIES


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """One features-family trial with its model inputs recorded, shared by the tests below."""
    tmp_path = tmp_path_factory.mktemp("features")
    csv = write_csv(tmp_path / "tweets.csv", make_tweets(200, seed=4))
    exp_path = tmp_path / "exp.yaml"
    space = {"parameters": {"learning_rate": {"type": "float", "bounds": [0.001, 0.05],
                                              "default": 0.02}},
             "fixed": {**{k: v for k, v in FAMILIES["features"].example_params().items()
                          if k != "learning_rate"}, "num_epochs": 2}}
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(space))
    exp_path.write_text(yaml.safe_dump(experiment_dict(
        csv, model={"family": "features"}, search_space=str(tmp_path / "space.yaml"))))
    experiment = load_experiment(exp_path)
    data = prepare(experiment, tmp_path, tmp_path / "cache")
    seen = []  # every (ids, inputs) run_trial feeds the model

    def spy(model, ids, vocab_size):
        inputs = original(model, ids, vocab_size)
        seen.append((ids, inputs))
        return inputs

    original = trial_module.model_inputs
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(trial_module, "model_inputs", spy)
        result = trial_module.run_trial(experiment.space.defaults(), data, seed=5,
                                        family="features")
    return experiment, data, result, seen, tmp_path


def test_training_evaluation_and_raw_text_predict_see_the_same_features(trained):
    experiment, data, result, seen, tmp_path = trained
    assert len(seen) == 2  # one call for the training rows, one for validation
    fed = {split: [inputs for ids, inputs in seen if np.array_equal(ids, getattr(data, f"x_{split}"))]
           for split in ("train", "val")}
    assert len(fed["train"]) == len(fed["val"]) == 1
    val_inputs = fed["val"][0]
    classifier = TextClassifier(result.model, data.vocabulary, experiment.cleaning,
                                data.sequence_length, data.class_names)
    texts = split_texts(experiment, tmp_path, data)
    # predict on raw text: clean -> vectorize with the stored vocabulary -> features from ids
    clean = make_cleaner(experiment.cleaning)
    raw_ids = vectorize([clean(t) for t in texts["val"]["text"]], data.vocabulary,
                        data.sequence_length)
    assert np.array_equal(raw_ids, data.x_val)
    raw_inputs = classifier.model_inputs(raw_ids)
    assert np.array_equal(raw_inputs["features"], val_inputs["features"])
    assert np.array_equal(raw_inputs["tokens"], val_inputs["tokens"])
    from_training = result.model.predict(val_inputs, verbose=0).reshape(-1)
    np.testing.assert_array_equal(classifier.predict_proba(texts["val"]["text"].tolist()),
                                  from_training)
    np.testing.assert_allclose(result.val_proba, from_training, atol=1e-7)
    # evaluation of a prepared split (test) and predict on its raw texts agree too
    np.testing.assert_array_equal(classifier.predict_ids(data.x_test),
                                  classifier.predict_proba(texts["test"]["text"].tolist()))


def test_scaler_is_fitted_on_train_only_and_saved_with_the_model(trained):
    experiment, data, result, seen, tmp_path = trained
    scaler = result.model.get_layer("feature_scaler")
    mean, variance = feature_scaler(token_features(data.x_train, len(data.vocabulary)))
    np.testing.assert_allclose(np.ravel(scaler.mean), mean, rtol=1e-6)
    np.testing.assert_allclose(np.ravel(scaler.variance), variance, rtol=1e-6)
    everything = np.concatenate([data.x_train, data.x_val, data.x_test])
    all_mean, _ = feature_scaler(token_features(everything, len(data.vocabulary)))
    assert not np.allclose(all_mean, mean)  # would differ had val/test leaked into the scaler
    classifier = TextClassifier(result.model, data.vocabulary, experiment.cleaning,
                                data.sequence_length, data.class_names)
    loaded = TextClassifier.load(classifier.save(tmp_path / "saved"))
    np.testing.assert_array_equal(loaded.predict_ids(data.x_test),
                                  classifier.predict_ids(data.x_test))


def test_features_are_a_function_of_the_ids_and_ignore_padding():
    ids = np.array([[2, 3, 3, 1, 700, 0, 0], [0, 0, 0, 0, 0, 0, 0]], np.int32)
    f = token_features(ids, vocab_size=1000)
    length, frequent, rare, mean, std, entropy = f[0]
    assert length == 5 and frequent == pytest.approx(3 / 5)
    assert rare == pytest.approx(2 / 5)  # out of vocabulary and rank 700 >= 40% of 1000
    ranks = np.array([2, 3, 3, 1000, 700])
    assert mean == pytest.approx(ranks.mean()) and std == pytest.approx(ranks.std())
    p = np.array([1, 2, 1, 1]) / 5
    assert entropy == pytest.approx(-(p * np.log(p)).sum())
    assert not f[1].any()  # an empty text: zeros
    np.testing.assert_array_equal(token_features(np.pad(ids, ((0, 0), (0, 9))), 1000), f)
