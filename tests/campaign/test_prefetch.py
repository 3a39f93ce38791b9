"""optimizer.prefetch: Ax generates the next candidate in a thread while a trial trains. The
trial must come out bit-identical to one trained alone (issue 19: Ax's Client restored Python's
global generator mid-build, and Keras drew its layer seeds from it)."""

from __future__ import annotations

import random
import threading

import numpy as np

from sentiment_core import trial
from sentiment_core.campaign import Search
from sentiment_core.trial import run_trial


def _search(experiment, tmp_path, name="prefetch"):
    return Search.open(name, experiment.space, experiment.objective, experiment.optimizer,
                       experiment.seed, tmp_path / "ax.db")


def test_a_trial_is_identical_with_and_without_a_concurrent_ax_generation(
        tiny_experiment, tiny_data, tmp_path, monkeypatch):
    params = {**tiny_experiment.space.defaults(), "dropout_rate": 0.2}  # a dropout seed too
    seed = tiny_experiment.seed
    search = _search(tiny_experiment, tmp_path)
    alone = run_trial(params, tiny_data, seed, family=tiny_experiment.model.family)

    # The overlap that broke it, made certain rather than left to timing: Ax enters its
    # generation before the trial seeds, and leaves it after the seeding, before the build.
    seeded, generated = threading.Event(), threading.Event()
    strategy = search.client._generation_strategy
    gen = strategy.gen

    def gen_once_the_trial_seeded(*args, **kwargs):
        assert seeded.wait(120)
        return gen(*args, **kwargs)

    build = trial.build_model

    def build_once_ax_generated(*args, **kwargs):
        seeded.set()
        assert generated.wait(120)
        return build(*args, **kwargs)

    monkeypatch.setattr(strategy, "gen", gen_once_the_trial_seeded)
    monkeypatch.setattr(trial, "build_model", build_once_ax_generated)
    asked: dict = {}

    def ask():
        try:
            asked.update(search.ask(1))
        finally:
            generated.set()

    asker = threading.Thread(target=ask)
    asker.start()
    beside = run_trial(params, tiny_data, seed, family=tiny_experiment.model.family)
    asker.join()
    assert asked, "Ax generated no candidate beside the trial"
    assert beside.metrics == alone.metrics
    assert beside.history == alone.history
    for ours, theirs in zip(beside.model.get_weights(), alone.model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


def test_ax_generation_leaves_pythons_and_numpys_generators_to_other_threads(
        tiny_experiment, tmp_path, monkeypatch):
    """What another thread does to the global generators during a generation stays done (Ax's
    own seeding used to restore them at its end), and the candidates do not depend on them."""
    search = _search(tiny_experiment, tmp_path)
    strategy = search.client._generation_strategy
    gen = strategy.gen

    def gen_while_another_thread_reseeds(*args, **kwargs):
        random.seed(99)
        np.random.seed(99)
        return gen(*args, **kwargs)

    monkeypatch.setattr(strategy, "gen", gen_while_another_thread_reseeds)
    first = search.ask(2)
    assert random.getstate() == random.Random(99).getstate()
    assert np.array_equal(np.random.get_state()[1], np.random.RandomState(99).get_state()[1])

    random.seed(5)
    np.random.seed(5)
    again = _search(tiny_experiment, tmp_path / "again", "prefetch-again").ask(2)
    assert list(again.values()) == list(first.values())
