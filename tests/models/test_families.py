"""Every family builds, trains, and ignores padding; the search-space check; ReduceLROnPlateau;
the masked pooling layer; ensembles of two-input models."""

from __future__ import annotations

import numpy as np
import pytest

from sentiment_core.config import parse_search_space
from sentiment_core.data import PreparedData
from sentiment_core.errors import InputError
from sentiment_core.models import (
    FAMILIES,
    build_model,
    check_space_covers,
    model_inputs,
    train_feature_stats,
)
from sentiment_core.trial import run_trial, training_callbacks

VOCAB = ["", "[UNK]"] + [f"t{i}" for i in range(2, 60)]


def synthetic(n: int = 240, length: int = 12, seed: int = 0) -> PreparedData:
    """Short sequences padded at the end; token 2 or 3 at the start decides the label."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = np.zeros((n, length), np.int32)
    for i in range(n):
        size = rng.integers(2, length - 2)
        x[i, :size] = rng.integers(1, len(VOCAB), size)
        x[i, 0] = 2 + y[i]
    cut = n * 3 // 4
    return PreparedData(x[:cut], y[:cut], x[cut:], y[cut:], x[cut:], y[cut:], VOCAB,
                        ["negative", "positive"], "synthetic")


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_builds_trains_and_ignores_appended_padding(name):
    data = synthetic()
    params = FAMILIES[name].example_params()
    result = run_trial(params, data, seed=1, family=name)
    assert result.metrics["epochs_run"] == 1 and np.isfinite(result.metrics["val_loss"])
    trained = result.model
    # the same weights in a model whose sequences are 10 steps longer: only padding is added
    longer = build_model(name, params, len(VOCAB), data.sequence_length + 10, 2,
                         train_feature_stats(name, data.x_train, len(VOCAB)),
                         train_ids=data.x_train, train_labels=data.y_train, vocabulary=VOCAB)
    longer.set_weights(trained.get_weights())
    x = data.x_val
    padded = np.pad(x, ((0, 0), (0, 10)))
    # called, not .predict: no prediction graph to trace for two shapes
    short = np.asarray(trained(model_inputs(trained, x, len(VOCAB)), training=False))
    long = np.asarray(longer(model_inputs(longer, padded, len(VOCAB)), training=False))
    np.testing.assert_allclose(short, long, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_has_a_three_class_head_and_named_layers(name):
    params = FAMILIES[name].example_params()
    data = synthetic()
    stats = train_feature_stats(name, data.x_train, len(VOCAB))
    model = build_model(name, params, len(VOCAB), 12, 3, stats, train_ids=data.x_train,
                        train_labels=np.arange(len(data.y_train)) % 3, vocabulary=VOCAB)
    assert model.output_shape == (None, 3)
    names = [layer.name for layer in model.layers]
    assert "embedding" in names and "output" in names
    assert model.get_layer("embedding").mask_zero


def test_bilstm_regularized_uses_label_smoothing_and_l2():
    params = FAMILIES["bilstm_regularized"].example_params()
    model = build_model("bilstm_regularized", {**params, "label_smoothing": 0.05, "l2": 1e-3},
                        len(VOCAB), 12, 2)
    assert model.loss.get_config()["label_smoothing"] == 0.05
    assert model.get_layer("dense").kernel_regularizer.get_config()["l2"] == pytest.approx(1e-3)
    three = build_model("bilstm_regularized", {**params, "label_smoothing": 0.1}, len(VOCAB), 12,
                        3)
    data = synthetic()
    three.fit(data.x_train, data.y_train, epochs=1, verbose=0)  # smoothed sparse labels train


def test_masked_max_pooling_ignores_masked_steps_where_keras_does_not():
    import keras

    from sentiment_core.models.layers import MaskedGlobalPooling1D

    values = np.array([[[1.0, -5.0], [2.0, -4.0], [9.0, 9.0]]], np.float32)
    mask = np.array([[True, True, False]])
    pooled = MaskedGlobalPooling1D("max")(values, mask=mask)
    np.testing.assert_allclose(np.asarray(pooled), [[2.0, -4.0]])
    mean = MaskedGlobalPooling1D("average")(values, mask=mask)
    np.testing.assert_allclose(np.asarray(mean), [[1.5, -4.5]])
    empty = MaskedGlobalPooling1D("max")(values, mask=np.zeros((1, 3), bool))
    np.testing.assert_allclose(np.asarray(empty), [[0.0, 0.0]])
    assert not keras.layers.GlobalMaxPooling1D().supports_masking  # why the layer exists


def space(parameters: dict, fixed: dict | None = None):
    return parse_search_space({"parameters": parameters, "fixed": fixed or {}}, "space.yaml")


BASE = {"learning_rate": {"type": "float", "bounds": [0.001, 0.01]},
        "num_epochs": {"type": "int", "bounds": [1, 2]}}


def test_search_space_must_cover_what_the_family_reads():
    fixed = {"batch_size": 32, "embedding_size": 8, "gru_units": 4, "neurons_dense": 4,
             "dropout_rate": 0.1}
    check_space_covers("gru", space(BASE, fixed), "exp.yaml")
    without_units = {k: v for k, v in fixed.items() if k != "gru_units"}
    with pytest.raises(InputError, match="needs gru_units"):
        check_space_covers("gru", space(BASE, without_units), "exp.yaml")
    with pytest.raises(InputError, match="not read by family gru"):
        check_space_covers("gru", space(BASE, {**fixed, "lstm_units": 4}), "exp.yaml")


def test_conditional_parameter_is_needed_only_where_its_parent_allows_it():
    fixed = {"batch_size": 32, "embedding_size": 8, "lstm_units": 4, "neurons_dense": 4,
             "dropout_rate": 0.1}
    one_layer = space(BASE, {**fixed, "lstm_layers": 1})
    check_space_covers("stacked_lstm", one_layer, "exp.yaml")  # no second layer: not needed
    either = space({**BASE, "lstm_layers": {"type": "choice", "values": [1, 2]}}, fixed)
    with pytest.raises(InputError, match="needs lstm_units_2 when lstm_layers"):
        check_space_covers("stacked_lstm", either, "exp.yaml")
    hierarchical = space({**BASE,
                          "lstm_layers": {"type": "choice", "values": [1, 2],
                                          "dependents": {2: ["lstm_units_2"]}},
                          "lstm_units_2": {"type": "int", "bounds": [2, 8]}}, fixed)
    check_space_covers("stacked_lstm", hierarchical, "exp.yaml")
    assert hierarchical.parameters["lstm_layers"].dependents_by_value() == {2: ["lstm_units_2"]}


def test_dependents_must_name_other_tuned_parameters():
    with pytest.raises(InputError, match="not another tuned parameter"):
        space({**BASE, "lstm_layers": {"type": "choice", "values": [1, 2],
                                       "dependents": {2: ["lstm_units_3"]}}})
    with pytest.raises(InputError, match="not one of the values"):
        space({**BASE, "lstm_layers": {"type": "choice", "values": [1, 2],
                                       "dependents": {3: ["num_epochs"]}}})


def test_ax_proposes_a_dependent_parameter_only_with_its_value(tmp_path):
    from sentiment_core.campaign import Search
    from sentiment_core.config import ObjectiveConfig, OptimizerConfig

    hierarchical = space({"lstm_layers": {"type": "choice", "values": [1, 2],
                                          "dependents": {2: ["lstm_units_2"]}},
                          "lstm_units_2": {"type": "int", "bounds": [2, 8]},
                          "learning_rate": {"type": "float", "bounds": [0.001, 0.01]}})
    search = Search.open("h", hierarchical, ObjectiveConfig(metric="val_accuracy"),
                         OptimizerConfig(initialization_trials=6), 0, tmp_path / "ax.db")
    seen = set()
    for _ in range(6):
        (index, params), = search.ask(1).items()
        assert ("lstm_units_2" in params) == (params["lstm_layers"] == 2), params
        seen.add(params["lstm_layers"])
        search.tell(index, {"val_accuracy": 0.5})
    assert seen == {1, 2}


def test_reduce_lr_on_plateau_is_an_option_beside_the_best_epoch_keeper():
    import keras

    best, callbacks = training_callbacks(keras, {}, None)
    assert [type(c).__name__ for c in callbacks] == ["TerminateOnNaN", "KeepBestEpoch"]
    best, callbacks = training_callbacks(keras, {"reduce_lr_patience": 1,
                                                 "reduce_lr_factor": 0.25}, None)
    reduce = callbacks[-1]
    assert isinstance(reduce, keras.callbacks.ReduceLROnPlateau)
    assert (reduce.patience, reduce.factor, reduce.monitor) == (1, 0.25, "val_loss")
    data = synthetic()
    params = {**FAMILIES["lstm"].example_params(), "learning_rate": 0.3, "num_epochs": 6,
              "reduce_lr_patience": 1, "reduce_lr_factor": 0.1}
    history = run_trial(params, data, seed=0, family="lstm").history
    assert min(history["learning_rate"]) < 0.3  # lowered on a plateau of val_loss


def test_members_of_a_two_input_family_average_into_one_model():
    """The ensemble of a feature family takes both inputs by name (run_objective's replicates
    and folds go through average_models; the wide & deep test trains one end to end)."""
    import keras

    from sentiment_core.trial import average_models

    data = synthetic()
    params = FAMILIES["features"].example_params()
    stats = train_feature_stats("features", data.x_train, len(VOCAB))
    members = []
    for seed in (3, 4):  # untrained, but different weights
        keras.utils.set_random_seed(seed)
        members.append(build_model("features", params, len(VOCAB), 12, 2, stats))
    ensemble = average_models(members)
    inputs = model_inputs(ensemble, data.x_val, len(VOCAB))
    assert set(inputs) == {"tokens", "features"}
    outputs = [np.asarray(m(inputs, training=False)) for m in members]
    assert not np.allclose(outputs[0], outputs[1])
    np.testing.assert_allclose(np.asarray(ensemble(inputs, training=False)),
                               np.mean(outputs, axis=0), atol=1e-6)


def test_example_params_are_what_each_family_reads():
    for name, spec in FAMILIES.items():
        assert set(spec.required) <= set(spec.example_params()) <= spec.parameters, name
