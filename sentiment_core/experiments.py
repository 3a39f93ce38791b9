"""Find and load `experiments/*.yaml` and the search spaces they name, with every check.

    experiment = load_experiment("gop_debate_lstm")        # or a path to a .yaml file
    space = experiment.space                                 # the search space it names

Types and values are checked by `config`; the names an experiment uses (dataset, cleaning steps,
model family) by the data and model layers that own those registries.
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
from .models import check_family, check_parameters
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


def load_experiment(name_or_path: str | Path) -> ExperimentConfig:
    path = resolve_experiment_path(str(name_or_path))
    experiment = experiment_from_dict(read_yaml(path), str(path))
    space = load_search_space(_resolve_space_path(experiment.search_space, path), str(path))
    check_parameters(experiment.model.family, [*space.parameters, *space.fixed], space.path)
    return dataclasses.replace(experiment, path=str(path), space=space)


def experiment_from_dict(raw: dict[str, Any], where: str,
                         space: dict[str, Any] | None = None) -> ExperimentConfig:
    """Build and check an experiment from its dict (a YAML file, or a run's recorded config)."""
    experiment = parse_experiment(raw, where)
    check_data_names(experiment, where)
    check_family(experiment.model.family, where)
    if space is not None:
        parsed = parse_search_space(space, where)
        check_parameters(experiment.model.family, [*parsed.parameters, *parsed.fixed], where)
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
