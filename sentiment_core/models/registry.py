"""The family registry, the one builder that adds the output head and compiles, fine-tuning, and
what a model reads as input.

    model = build_model("lstm", params, vocab_size=20000, sequence_length=40, num_classes=2)
    inputs = model_inputs(model, ids, vocab_size)         # ids, or {"tokens", "features"}
    tuned = fine_tune_model(parent, ["embedding"], params, num_classes=2)

A family declares the parameters it needs (`required`), those needed only for some value of
another parameter (`conditional`: a second layer's units), and options with defaults
(`optional`), so an experiment can be checked against its search space when it is loaded. Every
family masks padding: TextVectorization pads at the end, and an unmasked LSTM that reads 30+
zeros after a short tweet forgets the words and collapses to the majority class. Layers carry
fixed names (embedding, lstm, bilstm, dense, ...) so fine-tuning can freeze them by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import SearchSpace
from ..data import embedding_matrix, feature_scaler, token_features
from ..errors import InputError
from .ranges import check_space_ranges

# Read by trial.run_trial for every family: training length, batch and the optimizer.
TRIAL_PARAMS = ("learning_rate", "num_epochs", "batch_size")
# Training options every family accepts (trial.run_trial and build_model read them).
TRAINING_OPTIONS = {
    "class_weight": "none",  # none | balanced
    "early_stopping_patience": 0,  # 0: run every epoch (the best epoch is restored anyway)
    "early_stopping_monitor": "val_loss",  # or a validation score: val_macro_f1, val_roc_auc
    "reduce_lr_patience": 0,  # >0: ReduceLROnPlateau on val_loss after this many epochs
    "reduce_lr_factor": 0.5,
    "min_learning_rate": 1e-6,
    "label_smoothing": 0.0,
    "length_buckets": 0,  # N > 0: length-bucketed batches with N bucket lengths; 0: fixed padding
    "embedding_init": "random",  # random | glove: GloVe 6B 50d rows for the vocabulary's words
    "embedding_trainable": True,  # false: the embedding stays as initialized (frozen)
}
EMBEDDING_INITS = ("random", "glove")


@dataclass(frozen=True)
class Family:
    name: str
    builder: Callable[..., Any]  # (keras, params, vocab_size, tokens[, features]) -> tensor
    required: tuple[str, ...]
    conditional: dict[str, tuple[str, tuple]] = field(default_factory=dict)  # p -> (parent, values)
    optional: dict[str, Any] = field(default_factory=dict)
    uses_features: bool = False
    description: str = ""
    # a wide family: builder(keras, params, vocabulary, tokens, train_ids, train_labels,
    # outputs) returns (body, wide logits); the logits add to the head's before its activation
    wide: bool = False

    @property
    def parameters(self) -> set[str]:
        """Every parameter this family (and the trial) reads."""
        return {*TRIAL_PARAMS, *TRAINING_OPTIONS, *self.required, *self.conditional,
                *self.optional}

    def example_params(self) -> dict[str, Any]:
        """Small, valid parameters (tests and `--help` examples)."""
        small = {"learning_rate": 0.01, "num_epochs": 1, "batch_size": 32}
        for name in (*self.required, *self.conditional):
            small.setdefault(name, _EXAMPLES.get(name, 4))
        return {**small, **self.optional}


_EXAMPLES = {"dropout_rate": 0.1, "recurrent_dropout": 0.1, "spatial_dropout": 0.1, "l2": 1e-4,
             "label_smoothing": 0.05, "lstm_layers": 2, "gru_layers": 2, "wide_l2": 1e-4}

FAMILIES: dict[str, Family] = {}


def family(name: str, required: tuple[str, ...], conditional: dict | None = None,
           optional: dict | None = None, uses_features: bool = False, wide: bool = False):
    """Register a builder under `name`; its docstring's first line describes the family."""

    def register(builder):
        FAMILIES[name] = Family(name, builder, tuple(required), dict(conditional or {}),
                                dict(optional or {}), uses_features,
                                (builder.__doc__ or "").strip().splitlines()[0], wide)
        return builder

    return register


def build_model(family_name: str, params: dict[str, Any], vocab_size: int,
                sequence_length: int | None,
                num_classes: int = 2, feature_stats: tuple[np.ndarray, np.ndarray] | None = None,
                vocabulary: list[str] | None = None, train_ids: np.ndarray | None = None,
                train_labels: np.ndarray | None = None):
    """The family's body on a `tokens` input (plus a `features` input for feature families,
    scaled in the model by `feature_stats` = train-only mean and variance), then the output
    head, compiled with Adam at `learning_rate`. `sequence_length` None: any length (batches
    trimmed to their bucket's length). `vocabulary`: the words of the ids (needed by
    `embedding_init: glove`, and a wide family); `train_ids`, `train_labels`: the training
    split (a wide family's n-grams, their IDF and its linear part's start are fitted on it)."""
    import keras

    spec = FAMILIES[family_name]
    params = {**spec.optional, **params}
    tokens = keras.Input(shape=(sequence_length,), dtype="int32", name="tokens")
    outputs = 1 if num_classes == 2 else num_classes
    activation = "sigmoid" if num_classes == 2 else "softmax"
    if spec.wide:
        if train_ids is None or train_labels is None or vocabulary is None:
            raise ValueError(f"family {family_name} needs the vocabulary and the training "
                             f"split's ids and labels")
        body, wide = spec.builder(keras, params, vocabulary, tokens, train_ids, train_labels,
                                  outputs)
        logits = keras.layers.Add(name="logits")(
            [keras.layers.Dense(outputs, name="deep_logits", kernel_initializer="zeros")(body),
             wide])  # zeros: the model starts as its wide part (a warm-started linear model)
        model = keras.Model(tokens, keras.layers.Activation(activation, name="output")(logits),
                            name=family_name)
        _init_embedding(model, params, vocabulary)
        compile_model(model, params, num_classes)
        return model
    if spec.uses_features:
        if feature_stats is None:
            raise ValueError(f"family {family_name} needs the train split's feature statistics")
        features = keras.Input(shape=(len(feature_stats[0]),), dtype="float32", name="features")
        body = spec.builder(keras, params, vocab_size, tokens, features, feature_stats)
        inputs = {"tokens": tokens, "features": features}
    else:
        body = spec.builder(keras, params, vocab_size, tokens)
        inputs = tokens
    head = keras.layers.Dense(outputs, activation=activation, name="output")
    model = keras.Model(inputs, head(body), name=family_name)
    _init_embedding(model, params, vocabulary)
    compile_model(model, params, num_classes)
    return model


def _init_embedding(model, params: dict[str, Any], vocabulary: list[str] | None) -> None:
    """GloVe's vectors into the `embedding` layer's rows (`embedding_init: glove`), and the
    layer frozen when `embedding_trainable` is false. Words GloVe lacks get random rows drawn
    from NumPy's seeded state, so a trial stays reproducible."""
    init = params.get("embedding_init", TRAINING_OPTIONS["embedding_init"])
    if init not in EMBEDDING_INITS:
        raise ValueError(f"embedding_init must be one of {', '.join(EMBEDDING_INITS)}, "
                         f"got {init!r}")
    layer = model.get_layer("embedding")
    if init == "glove":
        if vocabulary is None or len(vocabulary) != layer.input_dim:
            raise ValueError("embedding_init glove needs the vocabulary of the token ids")
        rng = np.random.default_rng(np.random.randint(2**31 - 1))
        layer.set_weights([embedding_matrix(vocabulary, rng)[0]])
    layer.trainable = bool(params.get("embedding_trainable", True))


def compile_model(model, params: dict[str, Any], num_classes: int) -> None:
    import keras

    smoothing = float(params.get("label_smoothing", 0.0))
    if num_classes == 2:
        loss = keras.losses.BinaryCrossentropy(label_smoothing=smoothing)
        metric = "binary_accuracy"
    else:
        from .layers import SparseCrossentropyWithSmoothing

        loss = (SparseCrossentropyWithSmoothing(smoothing) if smoothing
                else keras.losses.SparseCategoricalCrossentropy())
        metric = "sparse_categorical_accuracy"
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=float(params["learning_rate"])),
                  loss=loss, metrics=[metric])


def fine_tune_model(parent, freeze: list[str], params: dict[str, Any], num_classes: int):
    """`parent` (a loaded Keras model, changed in place) with the named layers frozen and the
    rest trainable, recompiled at `params["learning_rate"]` (the lower fine-tuning rate)."""
    names = [layer.name for layer in parent.layers if layer.weights]
    unknown = [n for n in freeze if n not in names]
    if unknown:
        raise InputError("stages", "freeze", f"no layer named {unknown[0]!r} in the parent model "
                                             f"(layers with weights: {', '.join(names)})")
    for layer in parent.layers:
        layer.trainable = layer.name not in freeze
    compile_model(parent, params, num_classes)
    return parent


def uses_features(model) -> bool:
    return any(getattr(t, "name", "").startswith("features") for t in _input_tensors(model))


def model_inputs(model, ids: np.ndarray, vocab_size: int):
    """What `model` reads for these token ids: the ids, or the ids and their engineered
    features (computed by one function everywhere: training, evaluation, raw-text predict)."""
    if not uses_features(model):
        return ids
    return {"tokens": ids, "features": token_features(ids, vocab_size)}


def train_feature_stats(family_name: str, x_train: np.ndarray, vocab_size: int):
    """The scaler of a feature family, fitted on the training rows only; None otherwise."""
    if not FAMILIES[family_name].uses_features:
        return None
    return feature_scaler(token_features(x_train, vocab_size))


def _input_tensors(model) -> list[Any]:
    inputs = model.inputs if hasattr(model, "inputs") else []
    return list(inputs.values()) if isinstance(inputs, dict) else list(inputs or [])


def check_family(name: str, where: str) -> None:
    """The family an experiment names exists (checked when it is loaded)."""
    if name not in FAMILIES:
        raise InputError(where, "model.family", f"unknown family {name!r} "
                                                f"(known: {', '.join(FAMILIES)})")


def _possible_values(space: SearchSpace, name: str) -> list[Any]:
    spec = space.parameters.get(name)
    if spec is None:
        return [space.fixed.get(name)]
    if spec.type == "choice":
        return list(spec.values)
    if spec.type == "int":
        return list(range(int(spec.bounds[0]), int(spec.bounds[1]) + 1))
    return []


def check_space_covers(name: str, space: SearchSpace, where: str) -> None:
    """The search space gives the family every parameter it needs (tuned or fixed), a
    conditional parameter wherever its parent can take a value that needs it, nothing the
    family would silently ignore (a misspelt name), and no value the model cannot take."""
    spec = FAMILIES[name]
    given = {**{p: None for p in space.parameters}, **space.fixed}
    missing = [p for p in (*TRIAL_PARAMS, *spec.required) if p not in given]
    if missing:
        raise InputError(space.path or where, f"parameters.{missing[0]}",
                         f"missing: family {name} needs {', '.join(missing)} (tune it under "
                         f"parameters or set it under fixed); it reads "
                         f"{', '.join(sorted(spec.parameters))}")
    for param, (parent, values) in spec.conditional.items():
        if param in given:
            continue
        possible = _possible_values(space, parent)
        if any(v in values for v in possible):
            raise InputError(space.path or where, "parameters",
                             f"family {name} needs {param} when {parent} is one of {list(values)}")
    for value in _possible_values(space, "embedding_init"):
        if value is not None and value not in EMBEDDING_INITS:
            raise InputError(space.path or where, "embedding_init",
                             f"must be one of {', '.join(EMBEDDING_INITS)}, got {value!r}")
    unused = sorted(set(given) - spec.parameters)
    if unused:
        raise InputError(space.path or where, f"parameters.{unused[0]}",
                         f"not read by family {name} (it reads "
                         f"{', '.join(sorted(spec.parameters))})")
    check_space_ranges(space, where)
