"""Probe (not a test): does a trial trained beside a real `Search.ask` in a thread reproduce?

    PYTHONPATH=. python -m benchmarks.prefetch_probe [--repeats 4] [--phase sobol|botorch] \
        [--disable trial-seeds] [--disable ax-rng]

Trains one tiny trial (tests' synthetic tweets, 1 epoch) alone, then `--repeats` times while
another thread runs `Search.ask` (Sobol, or BoTorch after a few told trials), the way
`optimizer.prefetch` overlaps them. Instruments what the trial's randomness depends on:
- every seed Keras draws for an unseeded initializer or dropout layer
  (`keras.src.random.seed_generator.make_default_seed`, Python's global `random`),
- NumPy's global generator around the model's build,
- Ax's `with_rng_seed` (entered and left by `Client.get_next_trials`): when it reseeds and
  when it restores Python's, NumPy's (and forks torch's) global generators.
Prints, per run, the validation metric, a hash of the initial weights and the Keras seeds, and
the Ax events that fell inside the trial's seeding-to-built window.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

EVENTS: list[tuple[float, str, str]] = []  # (time, thread, what)


def log(what: str) -> None:
    EVENTS.append((time.perf_counter(), threading.current_thread().name, what))


def state_hash() -> str:
    py = hashlib.sha1(repr(random.getstate()).encode()).hexdigest()[:6]
    npy = hashlib.sha1(np.random.get_state()[1].tobytes()).hexdigest()[:6]
    return f"py={py} np={npy}"


def instrument(disable: list[str]) -> None:
    import keras
    from keras.src.random import seed_generator

    from sentiment_core import trial
    from sentiment_core.campaign.store import search
    from sentiment_core.models import seeding

    if "trial-seeds" in disable:  # run_trial seeding Keras as before the fix
        @contextlib.contextmanager
        def seeded(seed):
            keras.utils.set_random_seed(seed)
            yield

        trial.seeded = seeded
    else:
        seeding._install()
    if "ax-rng" in disable:  # Ax's with_rng_seed moving the global generators, as before
        search._own_torch_rng = lambda client: contextlib.nullcontext()
    source = seed_generator.python_random  # Python's random, or the trial's own generator

    class LoggedRandom:  # what Keras's make_default_seed calls
        @staticmethod
        def randint(low, high):
            value = source.randint(low, high)
            log(f"keras default seed {value}")
            return value

    seed_generator.python_random = LoggedRandom

    seeding = keras.utils.set_random_seed

    def set_random_seed(seed):
        seeding(seed)
        log(f"trial seeded ({state_hash()})")

    keras.utils.set_random_seed = set_random_seed
    build = trial.build_model

    def build_model(*args, **kwargs):
        model = build(*args, **kwargs)
        log(f"model built ({state_hash()})")
        return model

    trial.build_model = build_model
    from ax.api import client
    from ax.utils.common import random as ax_random

    original = ax_random.with_rng_seed

    @contextlib.contextmanager
    def with_rng_seed(seed):
        log(f"ax with_rng_seed enter: saves {state_hash()}, seeds {seed}")
        with original(seed):
            yield
        log(f"ax with_rng_seed exit: restored {state_hash()}")

    client.with_rng_seed = with_rng_seed


def weights_hash(model) -> str:
    digest = hashlib.sha1()
    for w in model.get_weights():
        digest.update(np.ascontiguousarray(w).tobytes())
    return digest.hexdigest()[:10]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--phase", choices=("sobol", "botorch"), default="sobol")
    parser.add_argument("--disable", action="append", default=[],
                        choices=("trial-seeds", "ax-rng"),
                        help="undo a part of the fix: the trial's own Keras seeds "
                             "(models.seeding), or Ax's generation without the global reseed")
    args = parser.parse_args()

    import yaml
    from conftest import experiment_dict, make_tweets, write_csv

    from sentiment_core.campaign import Search
    from sentiment_core.data import prepare
    from sentiment_core.experiments import load_experiment
    from sentiment_core.trial import run_trial

    work = Path(tempfile.mkdtemp(prefix="prefetch-probe-"))
    csv = write_csv(work / "tweets.csv", make_tweets())
    (work / "exp.yaml").write_text(yaml.safe_dump(experiment_dict(csv)))
    exp = load_experiment(work / "exp.yaml")
    data = prepare(exp, work, work / "cache")
    params = {**exp.space.defaults(), "num_epochs": 2}
    instrument(args.disable)

    search = Search.open("probe", exp.space, exp.objective, exp.optimizer, exp.seed,
                         work / "ax.db")
    rng = random.Random(0)  # the synthetic objective's values: not the global generator
    if args.phase == "botorch":
        for _ in range(exp.optimizer.initialization_trials + 1):
            for index in search.ask(1):
                search.tell(index, {exp.objective.metric: rng.random()})

    def trained(concurrent: bool):
        EVENTS.clear()
        asker = None
        if concurrent:  # as TrialLoop._prefetch: the ask is submitted, then the trial runs
            asker = threading.Thread(target=lambda: asked.update(search.ask(1)), name="ask")
            asked: dict = {}
            asker.start()
        result = run_trial(params, data, seed=exp.seed)
        if asker:
            asker.join()
            for index in asked:
                search.tell(index, {exp.objective.metric: rng.random()})
        seeds = [w for _, _, w in EVENTS if w.startswith("keras default seed")]
        events = sorted(EVENTS)
        return result, seeds, events

    alone, seeds0, events0 = trained(False)
    print(f"alone: {exp.objective.metric}={alone.metrics[exp.objective.metric]:.4f} "
          f"weights={weights_hash(alone.model)} keras seeds={len(seeds0)} "
          f"first={seeds0[:3]}")
    for what in events0:
        if not what[2].startswith("keras default seed"):
            print(f"    {what[1]:>10} {what[2]}")
    differ = 0
    for r in range(args.repeats):
        result, seeds, events = trained(True)
        same = (result.metrics == alone.metrics and seeds == seeds0)
        differ += not same
        first = next((i for i, (a, b) in enumerate(zip(seeds, seeds0)) if a != b), None)
        print(f"with ask #{r + 1}: {exp.objective.metric}="
              f"{result.metrics[exp.objective.metric]:.4f} weights={weights_hash(result.model)} "
              f"keras seeds same={seeds == seeds0} "
              f"(first differing at {first}) "
              f"metrics identical={result.metrics == alone.metrics}")
        t0 = events[0][0]
        shown = 0
        for t, thread, what in events:
            if what.startswith("keras default seed"):
                shown += 1
                if shown > 2 and shown != len(seeds):
                    continue
            print(f"    {t - t0:7.3f}s {thread:>10} {what}")
    print(f"{differ} of {args.repeats} concurrent runs differ from the trial alone")


if __name__ == "__main__":
    main()
