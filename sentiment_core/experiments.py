"""Find and load `experiments/*.yaml` and the search spaces they name, with every check.

    experiment = load_experiment("gop_debate_lstm")        # or a path to a .yaml file
    space = experiment.space                                 # the search space it names
    variants = load_variants("seed003_maxlen")               # {"L20": ExperimentConfig, ...}

Types and values are checked by `config`; the names an experiment uses (dataset, cleaning steps,
model family) by the data and model layers that own those registries, and the search space must
give the family every parameter it reads (`models.check_space_covers`).

Variants: a YAML may list `variants: {NAME: {overrides}}`. Each variant is the experiment with the
overrides merged in (mappings merge key by key, anything else is replaced), named
`<name>-<NAME>`, and run as its own campaign with the same budget and seed: a comparison at
equal budget (sequence lengths, families). `budget`, `seed` and `name` cannot be overridden.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from .config import (
    PROJECT_ROOT,
    ExperimentConfig,
    SearchSpace,
    parse_experiment,
    parse_search_space,
)
from .data import check_data_names
from .errors import InputError
from .models import check_family, check_space_covers
from .strict_yaml import read_yaml


def resolve_experiment_path(name_or_path: str) -> Path:
    """`gop_debate_lstm` -> experiments/gop_debate_lstm.yaml; a path is taken as it is."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    for root in (Path.cwd(), PROJECT_ROOT):
        candidate = root / "experiments" / f"{name_or_path}.yaml"
        if candidate.exists():
            return candidate
    return path


FIXED_ACROSS_VARIANTS = ("name", "budget", "seed", "variants")


def load_experiment(name_or_path: str | Path) -> ExperimentConfig:
    """The experiment (for a YAML with variants: the base, without its overrides)."""
    path = resolve_experiment_path(str(name_or_path))
    raw = read_yaml(path)
    raw.pop("variants", None)
    return _load(raw, path)


def load_variants(name_or_path: str | Path) -> dict[str, ExperimentConfig]:
    """Each variant of the experiment as a full experiment; {} when it declares none."""
    path = resolve_experiment_path(str(name_or_path))
    raw = read_yaml(path)
    variants = raw.pop("variants", None) or {}
    if not isinstance(variants, dict):
        raise InputError(path, "variants", "expected a mapping of name -> overrides")
    out = {}
    for name, overrides in variants.items():
        if not isinstance(overrides, dict):
            raise InputError(path, f"variants.{name}", "expected a mapping of overrides")
        fixed = [k for k in overrides if k in FIXED_ACROSS_VARIANTS]
        if fixed:
            raise InputError(path, f"variants.{name}.{fixed[0]}",
                             "is the same for every variant (equal budget, same seed)")
        merged = {**_merge(raw, overrides), "name": f"{raw.get('name')}-{name}"}
        out[str(name)] = _load(merged, path, f"{path} (variant {name})")
    return out


def _load(raw: dict[str, Any], path: Path, where: str | None = None) -> ExperimentConfig:
    where = where or str(path)
    experiment = experiment_from_dict(raw, where)
    space = load_search_space(_resolve_space_path(experiment.search_space, path), where)
    check_space_covers(experiment.model.family, space, where)
    return dataclasses.replace(experiment, path=str(path), space=space)


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overrides.items():
        out[key] = (_merge(base[key], value) if isinstance(value, dict)
                    and isinstance(base.get(key), dict) else value)
    return out


def experiment_from_dict(raw: dict[str, Any], where: str,
                         space: dict[str, Any] | None = None) -> ExperimentConfig:
    """Build and check an experiment from its dict (a YAML file, or a run's recorded config)."""
    experiment = parse_experiment(raw, where)
    check_data_names(experiment, where)
    check_family(experiment.model.family, where)
    if space is not None:
        parsed = parse_search_space(space, where)
        check_space_covers(experiment.model.family, parsed, where)
        experiment = dataclasses.replace(experiment, path=where, space=parsed)
    return experiment


def load_search_space(path: Path, referenced_from: str = "") -> SearchSpace:
    if not path.exists() and referenced_from:
        raise InputError(referenced_from, "search_space", f"no search space file {path}")
    return dataclasses.replace(parse_search_space(read_yaml(path), str(path)), path=str(path))


def _resolve_space_path(name: str, experiment_path: Path) -> Path:
    if name.endswith((".yaml", ".yml")):
        path = Path(name)
        return path if path.is_absolute() else experiment_path.parent / path
    for root in (experiment_path.resolve().parent.parent, Path.cwd(), PROJECT_ROOT):
        candidate = root / "search_spaces" / f"{name}.yaml"
        if candidate.exists():
            return candidate
    return experiment_path.resolve().parent.parent / "search_spaces" / f"{name}.yaml"
