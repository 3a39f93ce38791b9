"""A trial's random draws from generators it owns, not from ones another thread can move.

    with seeded(seed):
        model = build_model(...)   # the same weights whatever other threads do meanwhile

`keras.utils.set_random_seed` seeds Python's, NumPy's and TensorFlow's process-wide generators;
Keras then draws a seed from Python's global `random` for every unseeded initializer and dropout
layer while a model is built. Another thread that seeds, draws from or restores that generator
in between changes the initial weights: Ax's `Client.get_next_trials` saves, reseeds and then
restores it around each generation, and with `optimizer.prefetch` that generation runs beside
the trial (issue 19; `benchmarks/prefetch_probe.py` shows the restore landing mid-build).

Inside `seeded`, this thread's Keras seeds come from a private `random.Random(seed)`: the same
numbers as `random.seed(seed)` would give alone, so trials trained before keep reproducing.
Other threads, and this one outside the block, draw from Python's generator as before.
(NumPy's global generator is seeded too but no trial code draws from it; TensorFlow's seed
lives in its own context, which Ax does not touch.)
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _ThreadSeeds(threading.local):
    """What Keras's seed module calls `python_random`: this thread's private generator inside
    `seeded`, Python's global one elsewhere."""

    rng: random.Random | None = None

    def __getattr__(self, name: str):
        return getattr(self.rng or random, name)


_SEEDS = _ThreadSeeds()
_installed: list[bool] = []
_install_lock = threading.Lock()


def _install() -> None:
    """Once per process: Keras 3 draws its default seeds as `python_random.randint(...)` in
    `keras.src.random.seed_generator`; that name then points at `_SEEDS`."""
    from keras.src.random import seed_generator

    with _install_lock:
        if _installed:
            return
        if getattr(seed_generator, "python_random", None) is not random:
            raise RuntimeError("keras.src.random.seed_generator.python_random is not Python's "
                               "random module: this Keras version draws its seeds elsewhere")
        seed_generator.python_random = _SEEDS
        _installed.append(True)


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed Keras as `keras.utils.set_random_seed(seed)` does, with this thread's Keras seeds
    drawn from a generator of its own until the block ends."""
    import keras

    _install()
    keras.utils.set_random_seed(seed)
    previous, _SEEDS.rng = _SEEDS.rng, random.Random(seed)
    try:
        yield
    finally:
        _SEEDS.rng = previous
