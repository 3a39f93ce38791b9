"""wide_deep: its n-grams and IDF are scikit-learn's TF-IDF fitted on the training rows only, and
a saved model (a seed ensemble) predicts the same from raw text after reloading."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sentiment_core.evaluation import TextClassifier
from sentiment_core.models import FAMILIES
from sentiment_core.trial import run_objective, run_trial

PARAMS = {**FAMILIES["wide_deep"].example_params(), "wide_l2": 1e-4, "num_epochs": 2,
          "learning_rate": 0.02}


def ngram_names(codes, vocab_size: int) -> list[str]:
    """A code of TokenNgrams as scikit-learn names the n-gram of the ids written as words."""
    return [str(c) if c < vocab_size else f"{c // vocab_size - 1} {c % vocab_size}"
            for c in codes]


def id_docs(x, vocabulary) -> list[str]:
    """Rows of ids as text, a one-character word as "|" (no n-gram takes it)."""
    return [" ".join("|" if len(vocabulary[i]) < 2 else str(i) for i in row if i > 0)
            for row in x]


def analyzer(doc: str) -> list[str]:
    tokens = doc.split()
    return [t for t in tokens if t != "|"] + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])
                                              if "|" not in (a, b)]


def test_token_ngrams_codes_and_ignored_ids():
    from sentiment_core.models.layers import TokenNgrams

    codes = np.asarray(TokenNgrams(10, ignore=[4])(np.array([[2, 3, 4, 5, 0]])))
    # unigrams 2 3 (4 ignored) 5; bigrams (2,3) only: 4 breaks both of its pairs, 0 is padding
    np.testing.assert_array_equal(codes, [[2, 3, 0, 5, 0, 3 * 10 + 3, 0, 0, 0]])


def test_wide_part_is_fitted_on_training_rows_only(tiny_data):
    from sklearn.feature_extraction.text import TfidfVectorizer

    vocab_size = len(tiny_data.vocabulary)
    # word 5 made one character long: n-grams with it are left out
    tiny_data = dataclasses.replace(tiny_data, vocabulary=[*tiny_data.vocabulary[:5], "s",
                                                           *tiny_data.vocabulary[6:]])
    model = run_trial(PARAMS, tiny_data, seed=1, family="wide_deep").model
    config = model.get_layer("tfidf").get_config()
    learned = dict(zip(ngram_names(config["vocabulary"], vocab_size), config["idf_weights"]))
    # the same n-grams and IDF as scikit-learn's on the training rows (ids as words)
    docs = id_docs(tiny_data.x_train, tiny_data.vocabulary)
    assert any("|" in doc for doc in docs)  # a one-character word is in the training rows
    sklearn = TfidfVectorizer(analyzer=analyzer, min_df=2).fit(docs)
    assert set(learned) == set(sklearn.vocabulary_)
    for name, column in sklearn.vocabulary_.items():
        assert learned[name] == pytest.approx(sklearn.idf_[column], rel=1e-5)
    # new rows in validation and test change nothing: they are never read for the wide part
    shuffled = dataclasses.replace(tiny_data, x_val=tiny_data.x_val[:, ::-1].copy(),
                                   x_test=np.zeros_like(tiny_data.x_test))
    other = run_trial(PARAMS, shuffled, seed=1, family="wide_deep").model
    assert other.get_layer("tfidf").get_config() == config
    # and a bigram found only outside the training rows has no column of its own
    train_bigrams = {n for n in learned if " " in n}
    val_docs = id_docs(shuffled.x_val, tiny_data.vocabulary)
    val_only = {n for n in TfidfVectorizer(analyzer=analyzer).fit(val_docs).vocabulary_
                if " " in n} - set(TfidfVectorizer(analyzer=analyzer).fit(docs).vocabulary_)
    assert val_only and not val_only & train_bigrams


def test_saved_wide_deep_ensemble_predicts_the_same_from_raw_text(tiny_data, tiny_experiment,
                                                                   tmp_path):
    ensemble = run_objective(PARAMS, tiny_data, seed=3, family="wide_deep", replicates=2).model
    classifier = TextClassifier(ensemble, tiny_data.vocabulary, tiny_experiment.cleaning,
                                tiny_data.sequence_length, tiny_data.class_names)
    texts = ["RT @x: great debate tonight, love it", "worst answer, I hate the tax policy",
             "never seen words here", ""]
    before = classifier.predict_proba(texts)
    loaded = TextClassifier.load(classifier.save(tmp_path / "classifier"))
    np.testing.assert_allclose(loaded.predict_proba(texts), before, rtol=0, atol=1e-6)
    assert loaded.model.count_params() == ensemble.count_params()
    assert np.ptp(before) > 0  # the texts are told apart


def test_wide_part_starts_as_logistic_regression_on_the_training_rows(tiny_data):
    """At build time the wide logits are logistic regression's on TF-IDF n-grams of the training
    rows (scikit-learn's own pipeline, up to the out-of-vocabulary column scikit-learn drops)."""
    import keras
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sentiment_core.models import build_model

    params = {**PARAMS, "class_weight": "balanced"}
    model = build_model("wide_deep", params, len(tiny_data.vocabulary), None, 2,
                        train_ids=tiny_data.x_train, train_labels=tiny_data.y_train,
                        vocabulary=tiny_data.vocabulary)
    wide = keras.Model(model.inputs, model.get_layer("wide").output)
    ours = wide.predict(tiny_data.x_test, verbose=0).reshape(-1)

    def docs(x):
        return id_docs(x, tiny_data.vocabulary)

    c = 1 / (2 * params["wide_l2"] * len(tiny_data.y_train))
    theirs = make_pipeline(
        TfidfVectorizer(analyzer=analyzer, min_df=2),
        LogisticRegression(C=c, class_weight="balanced", max_iter=2000),
    ).fit(docs(tiny_data.x_train), tiny_data.y_train).decision_function(docs(tiny_data.x_test))
    assert np.corrcoef(ours, theirs)[0, 1] > 0.98
    # the deep logits start at zero: the whole model starts as the linear one
    np.testing.assert_allclose(model.predict(tiny_data.x_test, verbose=0).reshape(-1),
                               1 / (1 + np.exp(-ours)), atol=1e-5)
    # a slower wide part (wide_rate) is the same linear model, reparametrized
    slow = build_model("wide_deep", {**params, "wide_rate": 0.1}, len(tiny_data.vocabulary),
                       None, 2, train_ids=tiny_data.x_train, train_labels=tiny_data.y_train,
                        vocabulary=tiny_data.vocabulary)
    np.testing.assert_allclose(keras.Model(slow.inputs, slow.get_layer("wide").output).predict(
        tiny_data.x_test, verbose=0).reshape(-1), ours, rtol=1e-4, atol=1e-4)
    zeros = build_model("wide_deep", {**params, "wide_init": "zeros"}, len(tiny_data.vocabulary),
                        None, 2, train_ids=tiny_data.x_train, train_labels=tiny_data.y_train,
                        vocabulary=tiny_data.vocabulary)
    assert not zeros.get_layer("wide").get_weights()[0].any()
