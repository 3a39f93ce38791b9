"""The family registry and the one builder that adds the output layer and compiles.

    model = build_model("lstm", params, vocab_size=20000, sequence_length=40, num_classes=2)

Every family masks padding: TextVectorization pads at the end, and an unmasked LSTM that reads
30+ zeros after a short tweet forgets the words and collapses to the majority class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import InputError

FAMILIES: dict[str, Callable[..., Any]] = {}
# Every family is compiled with Adam(learning_rate) and trained for num_epochs in batch_size.
TRAINING_PARAMETERS = ("learning_rate", "num_epochs", "batch_size")
_REQUIRED: dict[str, tuple[str, ...]] = {}


def family(name: str, params: tuple[str, ...] = ()):
    """Register a builder `(keras, params, vocab_size)` returning the layers between the token
    input and the output head, as a list (stacked) or a function of the token tensor. `params`
    names the hyperparameters it reads (the training ones are added): a search space must tune
    or fix each of them."""
    def register(builder):
        FAMILIES[name] = builder
        _REQUIRED[name] = (*TRAINING_PARAMETERS, *params)
        return builder

    return register


def required_parameters(family_name: str) -> tuple[str, ...]:
    """The hyperparameters a family needs (tuned or fixed) to build and train."""
    return _REQUIRED[family_name]


def check_parameters(family_name: str, names, where: str) -> None:
    """A search space (tuned + fixed `names`) covers every parameter the family needs."""
    missing = [p for p in required_parameters(family_name) if p not in set(names)]
    if missing:
        raise InputError(where, f"parameters.{missing[0]}",
                         f"missing: model family {family_name!r} needs "
                         f"{', '.join(missing)} (tune it under parameters or set it under "
                         "fixed)")


def build_model(family_name: str, params: dict[str, Any], vocab_size: int, sequence_length: int,
                num_classes: int = 2):
    import keras

    body = FAMILIES[family_name](keras, params, vocab_size)
    head = (keras.layers.Dense(1, activation="sigmoid", name="output") if num_classes == 2
            else keras.layers.Dense(num_classes, activation="softmax", name="output"))
    if callable(body):  # a branching family: a function of the token tensor
        tokens = keras.Input(shape=(sequence_length,), dtype="int32", name="tokens")
        model = keras.Model(tokens, head(body(tokens)), name=family_name)
    else:  # a stack of layers
        model = keras.Sequential([keras.Input(shape=(sequence_length,), dtype="int32"), *body,
                                  head], name=family_name)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=float(params["learning_rate"])),
        loss="binary_crossentropy" if num_classes == 2 else "sparse_categorical_crossentropy",
        metrics=["binary_accuracy" if num_classes == 2 else "sparse_categorical_accuracy"])
    return model


def check_family(name: str, where: str) -> None:
    """The family an experiment names exists (checked when it is loaded)."""
    if name not in FAMILIES:
        raise InputError(where, "model.family", f"unknown family {name!r} "
                                                f"(known: {', '.join(FAMILIES)})")
