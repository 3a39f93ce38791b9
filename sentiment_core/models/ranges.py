"""The values each parameter can take at all (what Keras and the trial accept), so a value
outside them is refused where it is written — a `--param`, a search space's bounds, choices or
fixed values — before any data is read or model built.

    check_value("dropout_rate", 7.0, "--param")   # InputError: must be in [0, 1), got 7.0

A search space narrows these; this table only rules out what cannot be built or trained.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..config import SearchSpace
from ..errors import InputError


@dataclass(frozen=True)
class Range:
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # low itself excluded
    high_open: bool = False
    integer: bool = False

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if not math.isfinite(value) or (self.integer and value != int(value)):
            return False
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return self.high is None or (value < self.high or (not self.high_open
                                                             and value == self.high))

    def describe(self) -> str:
        kind = "an integer" if self.integer else "a number"
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"{kind} in {left}{_show(self.low)}, {_show(self.high)}{right}"
        if self.low is not None:
            return f"{kind} {'>' if self.low_open else '>='} {_show(self.low)}"
        return f"{kind} {'<' if self.high_open else '<='} {_show(self.high)}"


def _show(number: float) -> str:
    return str(int(number)) if number == int(number) else str(number)


_UNITS = Range(1, integer=True)
_RATE = Range(0, 1, high_open=True)  # a dropout rate of 1 drops everything
_COUNT = Range(0, integer=True)
RANGES: dict[str, Range] = {
    "learning_rate": Range(0, low_open=True), "num_epochs": _UNITS, "batch_size": _UNITS,
    "embedding_size": _UNITS, "lstm_units": _UNITS, "lstm_units_2": _UNITS, "gru_units": _UNITS,
    "neurons_dense": _UNITS, "feature_units": _UNITS, "lexical_units": _UNITS,
    "lstm_layers": Range(1, 2, integer=True),
    "dropout_rate": _RATE, "recurrent_dropout": _RATE, "spatial_dropout": _RATE,
    "l2": Range(0), "label_smoothing": Range(0, 1),
    "early_stopping_patience": _COUNT, "reduce_lr_patience": _COUNT, "length_buckets": _COUNT,
    "reduce_lr_factor": Range(0, 1, low_open=True, high_open=True),
    "min_learning_rate": Range(0),
}
CHOICES: dict[str, tuple[str, ...]] = {"class_weight": ("none", "balanced")}


def valid_values(name: str) -> str | None:
    """What `name` can take, in words; None when it is not restricted here."""
    if name in RANGES:
        return RANGES[name].describe()
    if name in CHOICES:
        return "one of " + ", ".join(CHOICES[name])
    return None


def check_value(name: str, value: Any, where: str, field: str | None = None) -> None:
    """InputError (one line: where, field, the valid range) when `name` cannot take `value`."""
    allowed = RANGES[name].contains(value) if name in RANGES else \
        value in CHOICES[name] if name in CHOICES else True
    if not allowed:
        raise InputError(where, field or name, f"must be {valid_values(name)}, "
                                         f"got {value!r}")


def check_space_ranges(space: SearchSpace, where: str) -> None:
    """A search space's bounds, choices, defaults and fixed values are values the model can
    take (bounds [0, 7] for dropout_rate would fail in the first trial that draws above 1)."""
    source = space.path or where
    for name, spec in space.parameters.items():
        values = list(spec.bounds or []) + list(spec.values or [])
        if spec.default is not None:
            values.append(spec.default)
        for value in values:
            check_value(name, value, source, f"parameters.{name}")
    for name, value in space.fixed.items():
        check_value(name, value, source, f"fixed.{name}")
