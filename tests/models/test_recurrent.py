"""The model families: every one masks the end padding, and an unknown name is one clear error."""

import numpy as np
import pytest

from sentiment_core.data import PreparedData
from sentiment_core.errors import InputError
from sentiment_core.models import FAMILIES, build_model, check_family
from sentiment_core.trial import run_trial

PARAMS = {"learning_rate": 0.01, "dropout_rate": 0.0, "lstm_units": 8, "neurons_dense": 8,
          "num_epochs": 6, "batch_size": 32, "embedding_size": 8}


def test_masked_lstm_learns_a_signal_at_the_start_of_short_padded_sequences():
    # Token 2 or 3 opens a 3-6 token sequence that is then padded with 30+ zeros: only masking
    # lets the LSTM's final state still remember the first token.
    rng = np.random.default_rng(0)
    n, length = 1200, 40
    y = rng.integers(0, 2, n)
    x = np.zeros((n, length), np.int32)
    for i in range(n):
        size = rng.integers(3, 7)
        x[i, :size] = rng.integers(4, 50, size)
        x[i, 0] = 2 + y[i]
    vocab = ["", "[UNK]"] + [f"t{i}" for i in range(2, 50)]
    data = PreparedData(x[:900], y[:900], x[900:], y[900:], x[900:], y[900:], vocab,
                        ["negative", "positive"], "synthetic")
    result = run_trial(PARAMS, data, seed=0)
    assert result.metrics["val_accuracy"] > 0.95, result.metrics


@pytest.mark.parametrize("name", sorted(n for n, f in FAMILIES.items()
                                         if not f.uses_features and not f.wide))
def test_every_family_masks_padding_and_has_the_right_head(name):
    # the features and wide families (fitted on training data): tests/models/test_families
    params = FAMILIES[name].example_params()
    binary = build_model(name, params, vocab_size=50, sequence_length=12, num_classes=2)
    assert any(getattr(layer, "mask_zero", False) for layer in binary.layers), name
    assert binary.output_shape == (None, 1)
    three = build_model(name, params, vocab_size=50, sequence_length=12, num_classes=3)
    assert three.output_shape == (None, 3)


def test_unknown_family_is_one_clear_error():
    check_family("lstm", "exp.yaml")
    with pytest.raises(InputError) as err:
        check_family("transformer", "exp.yaml")
    assert err.value.where == "exp.yaml" and err.value.field == "model.family"
    assert "lstm" in err.value.message  # the known families are listed
