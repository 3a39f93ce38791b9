"""Model families chosen by name in an experiment's YAML (`model.family`).

registry: the family registry, `build_model`, fine-tuning and model inputs; recurrent: lstm,
lstm_recurrent_dropout, stacked_lstm, gru; pooled: bilstm_maxpool, bilstm_regularized, avgpool;
features: the two-input family of seed 004; wide: wide_deep (TF-IDF n-grams beside an LSTM);
layers: Keras pieces they need (loaded on first use); seeding: a trial's Keras seeds from a
generator of its own; ranges: the values each parameter can take at all (checked before any
work starts).
Knows no optimizer, tracker or data file: a builder gets parameters and shapes.
"""

from . import features, lexical, pooled, recurrent, wide  # noqa: F401 - register families
from .registry import (
    FAMILIES,
    TRAINING_OPTIONS,
    Family,
    build_model,
    check_family,
    check_space_covers,
    compile_model,
    family,
    fine_tune_model,
    model_inputs,
    train_feature_stats,
    uses_features,
)
from .ranges import check_value, valid_values
from .seeding import seeded


def custom_objects() -> dict:
    """The package's Keras classes, for `keras.saving.load_model` (imports Keras)."""
    from .layers import custom_objects as objects

    return objects()


__all__ = [
    "FAMILIES", "TRAINING_OPTIONS", "Family", "build_model", "check_family",
    "check_space_covers", "check_value", "compile_model", "custom_objects", "family",
    "fine_tune_model", "model_inputs", "seeded", "train_feature_stats", "uses_features",
    "valid_values",
]
