"""A trial's Keras seeds come from a generator of its own (models.seeding)."""

from __future__ import annotations

import random

import numpy as np

from sentiment_core.models.seeding import seeded


def _weights():
    import keras

    layer = keras.layers.Dense(4)
    layer.build((None, 3))
    dropout = keras.layers.Dropout(0.5)
    return [w.copy() for w in layer.get_weights()], int(dropout.seed_generator.state[0])


def test_seeded_gives_keras_own_seeding_numbers():
    """Trials trained before the change keep reproducing: the same weights and dropout seed
    as keras.utils.set_random_seed with nobody else drawing."""
    import keras

    keras.utils.set_random_seed(7)
    expected = _weights()
    with seeded(7):
        got = _weights()
    np.testing.assert_array_equal(got[0][0], expected[0][0])
    assert got[1] == expected[1]


def test_seeded_ignores_what_happens_to_pythons_global_generator():
    with seeded(7):
        untouched = _weights()
    with seeded(7):
        random.seed(12345)  # what Ax's generation did from another thread
        random.random()
        moved = _weights()
    np.testing.assert_array_equal(moved[0][0], untouched[0][0])
    assert moved[1] == untouched[1]


def test_outside_seeded_keras_draws_from_pythons_generator_again():
    with seeded(7):
        _weights()
    random.seed(3)
    first = _weights()
    random.seed(3)
    assert _weights()[1] == first[1]
