"""Model families chosen by name in an experiment's YAML (`model.family`).

registry: the family registry and `build_model`; recurrent: the LSTM families of the seeds.
Knows no optimizer, tracker or data file: a builder gets parameters and shapes.
"""

from . import lexical, recurrent  # noqa: F401 - register their families
from .registry import (
    FAMILIES,
    build_model,
    check_family,
    check_parameters,
    family,
    required_parameters,
)

__all__ = ["FAMILIES", "build_model", "check_family", "check_parameters", "family",
           "required_parameters"]
