"""`data list|fetch|inspect` and `train` (one trial, no campaign)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..campaign import Store
from ..errors import InputError
from .base import cli, pass_store, say

# ---- data ------------------------------------------------------------------------------------


@cli.group()
def data() -> None:
    """Fetch, list and inspect datasets."""


@data.command("list")
@pass_store
def data_list(store: Store) -> None:
    """List the known datasets and whether each is in the data directory."""
    from ..data import REGISTRY

    for d in REGISTRY.values():
        present = "present" if (store.data_dir / d.filename).exists() else "missing"
        fetchable = "fetchable" if d.url else "copy by hand"
        click.echo(f"{d.name:<28} {present:<8} {fetchable:<13} {d.description}")


@data.command("fetch")
@click.argument("dataset")
@pass_store
def data_fetch(store: Store, dataset: str) -> None:
    """Download DATASET by its pinned URL into the data directory and check its sha256."""
    from ..data import fetch

    fetch(dataset, store.data_dir, progress=say)


@data.command("inspect")
@click.argument("experiment")
@pass_store
def data_inspect(store: Store, experiment: str) -> None:
    """Rows, class balance, duplicates, token lengths and group counts of EXPERIMENT's data."""
    from ..data import format_leakage, format_summary, load_labeled, split_leakage, summarize
    from ..experiments import load_experiment

    exp = load_experiment(experiment)
    say(f"reading {exp.data.describe()} from {store.data_dir}")
    labeled = load_labeled(exp, store.data_dir)
    click.echo(format_summary(summarize(labeled)))
    try:
        frames = split_frames(exp, labeled)
    except InputError as err:  # inspecting needs no split: say why there is none to check
        click.echo(f"near-copies across the split: no split to check ({err.message})")
        return
    click.echo("near-copies across the split (>= 8 words all but the last equal, or Jaccard "
               ">= 0.9 of word 3-shingles)")
    click.echo(format_leakage(split_leakage({k: f["text"].tolist() for k, f in frames.items()})))


def split_frames(exp, labeled) -> dict:
    """train/val/test (and foldK_train/foldK_val where the experiment has folds) as frames of
    row, text, clean, label, class, group: what `data split` writes."""
    import numpy as np

    from ..data import grouped_folds, split_rows

    frame = labeled.frame.assign(**{"class": lambda f: [labeled.class_names[i]
                                                        for i in f["label"]]})
    frame = frame.rename(columns={"key": "group_id"})[
        ["row", "text", "clean", "label", "class", "group_id"]]
    parts = dict(zip(("train", "val", "test"), split_rows(exp, labeled)))
    out = {name: frame.iloc[rows].reset_index(drop=True) for name, rows in parts.items()}
    if exp.objective.folds > 1:  # the folds a campaign's trials use (seed = the experiment's)
        pool = np.concatenate([parts["train"], parts["val"]])
        folds = grouped_folds(frame["group_id"].to_numpy()[pool],
                              frame["label"].to_numpy()[pool], exp.objective.folds, exp.seed)
        for k, (fit, held) in enumerate(folds, start=1):
            out[f"fold{k}_train"] = frame.iloc[pool[fit]].reset_index(drop=True)
            out[f"fold{k}_val"] = frame.iloc[pool[held]].reset_index(drop=True)
    return out


@data.command("split")
@click.argument("experiment")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Folder for train.csv, val.csv, test.csv (and foldK_train/val.csv).")
@pass_store
def data_split(store: Store, experiment: str, out: Path) -> None:
    """Write EXPERIMENT's split as CSV files (row, text, clean, label, class, group_id) to audit
    it: the rows `prepare` vectorizes, in its order; the folds where the experiment has some."""
    from ..data import load_labeled
    from ..experiments import load_experiment

    if out.exists() and not out.is_dir():
        raise InputError(out, "--out", "is a file; give a folder")
    exp = load_experiment(experiment)
    frames = split_frames(exp, load_labeled(exp, store.data_dir))
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(out / f"{name}.csv", index=False)
        say(f"{out / name}.csv: {len(frame):,} rows")


# ---- one trial -------------------------------------------------------------------------------


def parse_params(space, pairs: tuple[str, ...]) -> dict:
    """The space's defaults with each NAME=VALUE applied: a value of the parameter's type that
    the model can take (exit 2 naming the parameter and its valid range, before any work)."""
    from ..config import coerce_param
    from ..models import TRAINING_OPTIONS, check_value

    params = space.defaults()
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise InputError("--param", pair, "expected NAME=VALUE")
        params[name] = coerce_param(space, name, value, TRAINING_OPTIONS)
        check_value(name, params[name], "--param")
    return params


def print_epoch(epoch: int, epochs: int, logs: dict) -> None:
    shown = "  ".join(f"{k} {v:.4f}" for k, v in logs.items())
    say(f"  epoch {epoch}/{epochs}  {shown}")


@cli.command()
@click.argument("experiment")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Set a hyperparameter (repeatable); the others take the search space's "
                   "defaults.")
@click.option("--seed", type=int, default=None, help="Training seed [default: the experiment's].")
@pass_store
def train(store: Store, experiment: str, params: tuple[str, ...], seed: int | None) -> None:
    """Train and validate one model of EXPERIMENT; print its metrics and timings."""
    from ..data import prepare
    from ..experiments import load_experiment

    exp = load_experiment(experiment)
    chosen = parse_params(exp.space, params)
    seed = exp.seed if seed is None else seed
    data = prepare(exp, store.data_dir, store.cache_dir, progress=say)
    from ..trial import TrialFailed, run_trial

    say(f"training {exp.model.family} on {len(data.y_train)} rows, seed {seed}: "
        + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in chosen.items()))
    start = time.perf_counter()
    try:
        result = run_trial(chosen, data, seed, exp.model.family, on_epoch=print_epoch)
    except TrialFailed as err:
        raise click.ClickException(f"trial failed: {err}") from None
    click.echo(f"\nvalidation metrics ({len(data.y_val)} rows, {exp.name}, seed {seed})")
    for name, value in result.metrics.items():
        click.echo(f"  {name:<16} {value:.4f}")
    timings = {"prepare_s": data.prepare_seconds, **result.timings,
               "wall_s": time.perf_counter() - start + data.prepare_seconds}
    click.echo("timings" + (" (data from cache)" if data.from_cache else ""))
    for name, value in timings.items():
        click.echo(f"  {name:<20} {value:,.0f}" if name.endswith("samples_per_s")
                   else f"  {name:<20} {value:.2f}")
