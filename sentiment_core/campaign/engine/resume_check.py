"""A resumed campaign must be the campaign it was: what differs between the experiment now and
what the campaign recorded when it was made (its data, search space, objective, strategy)."""

from __future__ import annotations

from typing import Any

import yaml

from ... import tags as T
from ...config import ExperimentConfig, to_dict
from ...data import PreparedData
from ..store.tracking import Tracker


def changed_records(tracker: Tracker, parent, experiment: ExperimentConfig,
                    data: PreparedData) -> list[str]:
    """What differs from what campaign `parent` recorded (empty: nothing)."""
    tags, objective = parent.data.tags, experiment.objective
    out = []
    if tags.get(T.DATA_FINGERPRINT, data.fingerprint) != data.fingerprint:
        out.append(f"different data (fingerprint {tags[T.DATA_FINGERPRINT]} → "
                   f"{data.fingerprint})")
    recorded = yaml.safe_load(tracker.read_text(parent.info.run_id, "search_space.yaml"))
    space = space_changes(recorded, to_dict(experiment.space))
    if space:
        out.append(f"a different search space ({', '.join(space)})")
    now = {T.OBJECTIVE: ("metric", objective.metric),
           T.DIRECTION: ("direction", objective.direction),
           T.OBJECTIVE_FOLDS: ("folds", objective.folds),
           T.OBJECTIVE_REPLICATES: ("replicates", objective.replicates)}
    moved = [f"{shown} {tags[tag]} → {value}" for tag, (shown, value) in now.items()
             if tag in tags and tags[tag] != str(value)]
    if moved:
        out.append(f"a different objective ({', '.join(moved)})")
    if tags.get(T.STRATEGY, experiment.optimizer.strategy) != experiment.optimizer.strategy:
        out.append(f"a different strategy ({tags[T.STRATEGY]} → "
                   f"{experiment.optimizer.strategy})")
    return out


def space_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Each parameter whose definition differs, as 'name field old → new' (tuned parameters
    and fixed values; descriptions do not count)."""
    out = []
    for group in ("parameters", "fixed"):
        old, new = before.get(group) or {}, after.get(group) or {}
        for key in [*old, *(k for k in new if k not in old)]:
            if key not in new:
                out.append(f"{key} removed")
            elif key not in old:
                out.append(f"{key} added")
            elif old[key] != new[key]:
                if isinstance(old[key], dict) and isinstance(new[key], dict):
                    out += [f"{key} {field} {_shown(old[key].get(field))} → "
                            f"{_shown(new[key].get(field))}"
                            for field in [*old[key], *(f for f in new[key] if f not in old[key])]
                            if old[key].get(field) != new[key].get(field)]
                else:
                    out.append(f"{key} {_shown(old[key])} → {_shown(new[key])}")
    return out


def _shown(value: Any) -> str:
    return "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list | tuple) \
        else str(value)
