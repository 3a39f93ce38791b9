"""Length-bucketed batches: every row once per epoch, never trimmed below its length."""

import numpy as np
import pytest

from sentiment_core.data import bucket_boundaries, bucketed_batches, token_lengths


def test_token_lengths_count_up_to_the_last_token():
    ids = np.array([[5, 3, 0, 0], [0, 0, 0, 0], [2, 2, 2, 2], [7, 1, 9, 0]])
    assert token_lengths(ids).tolist() == [2, 0, 4, 3]


def test_boundaries_follow_the_length_quantiles_and_end_at_the_full_length():
    lengths = np.array([3] * 50 + [10] * 30 + [19] * 20)
    assert bucket_boundaries(lengths, 40, count=4) == [4, 12, 20, 40]
    assert bucket_boundaries(lengths, 40, count=1) == [20, 40]
    with pytest.raises(ValueError):
        bucket_boundaries(lengths, 40, count=0)


def test_an_epoch_holds_every_row_once_in_a_bucket_that_fits_it():
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 41, 1000)
    boundaries = bucket_boundaries(lengths, 40, count=4)
    batches = bucketed_batches(lengths, boundaries, 64, np.random.default_rng(1))
    rows = np.concatenate([r for r, _ in batches])
    assert sorted(rows.tolist()) == list(range(1000))
    for r, length in batches:
        assert length in boundaries and len(r) <= 64
        assert lengths[r].max() <= length
        # the shortest bucket that holds the row
        assert boundaries.index(length) == 0 or lengths[r].max() > 0
    again = bucketed_batches(lengths, boundaries, 64, np.random.default_rng(1))
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(batches, again))  # seeded
