"""The experiment and search-space schema: typed dataclasses and the checks beyond types.

    experiment = parse_experiment(raw_dict, "experiments/x.yaml")   # strict: InputError on bad input
    space = parse_search_space(raw_dict, "search_spaces/y.yaml")

Names that live in registries (datasets, cleaning steps, model families) are checked by the
layers that own them; `sentiment_core.experiments` loads YAML files and runs every check.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from .errors import InputError
from .run_config import (  # noqa: F401 - part of the schema, re-exported
    BudgetConfig,
    EarlyStoppingConfig,
    ExecutionConfig,
    IntensifyConfig,
    OptimizerConfig,
    RacingConfig,
    RefitConfig,
    check_early_stopping,
    check_execution,
    check_intensify,
    check_refit,
)
from .strict_yaml import build, load_yaml_text

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SENTIMENTS = ("negative", "neutral", "positive")
# Validation metrics run_trial reports; any of them can be a campaign's objective.
OBJECTIVE_METRICS = (
    "val_accuracy", "val_loss", "val_precision", "val_recall", "val_f1", "val_macro_f1",
    "val_roc_auc",
)


@dataclass(frozen=True)
class SourceConfig:
    """One file: a registered dataset (columns and labels from the registry unless overridden)
    or any CSV."""

    dataset: str  # a name in data.REGISTRY, or "csv" for any file (then `path` is required)
    path: str | None = None  # relative to the data directory unless absolute
    text_column: str | None = None  # None: the registry's default for the dataset
    label_column: str | None = None
    group_column: str | None = None  # candidate / airline: per-group counts, election analysis
    label_mapping: dict[str, str] | None = None  # raw label -> negative | neutral | positive | drop
    max_rows: int | None = None  # read only the first N rows (quick looks)


@dataclass(frozen=True)
class DataConfig:
    """One file given inline (`dataset: ...`, as SourceConfig), or several under `sources:`,
    each with its own columns and label mapping, combined before the split."""

    dataset: str | None = None
    path: str | None = None
    text_column: str | None = None
    label_column: str | None = None
    group_column: str | None = None
    label_mapping: dict[str, str] | None = None
    max_rows: int | None = None
    sources: list[SourceConfig] = field(default_factory=list)
    # a text found in several sources is kept once, from the first source listing it
    deduplicate: bool = True

    def describe(self) -> str:
        """The dataset names, `airline + gop-debate` for several sources."""
        return " + ".join(s.dataset if s.dataset != "csv" else f"csv:{s.path}"
                          for s in self.all_sources())

    def all_sources(self) -> list[SourceConfig]:
        if self.sources:
            return list(self.sources)
        return [SourceConfig(self.dataset or "", self.path, self.text_column, self.label_column,
                             self.group_column, self.label_mapping, self.max_rows)]


@dataclass(frozen=True)
class LabelConfig:
    mode: Literal["human", "textblob", "vader"] = "human"  # textblob/vader: seed 000's weak labels
    classes: Literal["binary", "three"] = "binary"  # binary drops neutral
    vader_threshold: float = 0.05  # |compound| below it counts as neutral


@dataclass(frozen=True)
class SplitConfig:
    validation: float = 0.15
    test: float = 0.15
    group_duplicates: bool = True  # exact, normalized and near duplicates never cross splits


@dataclass(frozen=True)
class VectorizationConfig:
    max_tokens: int = 20000
    sequence_length: int = 40
    min_count: int = 1  # seed 000 kept words seen more than 4 times: min_count 5
    # N > 0: the vocabulary also takes GloVe's N most frequent words and the training words
    # below min_count that GloVe knows (for `embedding_init: glove`); 0: training words only
    pretrained_words: int = 0


@dataclass(frozen=True)
class ModelConfig:
    family: str = "lstm"


@dataclass(frozen=True)
class ObjectiveConfig:
    metric: str = "val_macro_f1"
    direction: Literal["maximize", "minimize"] = "maximize"
    # A trial's value is the mean over folds x replicates, told to Ax with its standard error.
    folds: int = 1  # K > 1: grouped, stratified K-fold over train + validation (test untouched)
    replicates: int = 1  # R > 1: R seeds (seed, seed + 1, ...) on each fold or the fixed split


@dataclass(frozen=True)
class ElectionConfig:
    # candidate -> words; a tweet mentioning any of them counts for that candidate. Used when the
    # data have no group column (the GOP file has `candidate`).
    keywords: dict[str, list[str]] = field(default_factory=dict)
    exclude_groups: list[str] = field(default_factory=list)  # e.g. "No candidate mentioned"


@dataclass(frozen=True)
class ParameterSpec:
    type: Literal["int", "float", "choice"]
    bounds: list[float] | None = None  # [low, high] for int and float
    values: list[int | float | str | bool] | None = None  # for choice
    log_scale: bool = False
    default: int | float | str | bool | None = None  # used by `train` when no --param is given
    # choice only: value -> parameters that exist only when this parameter takes that value
    # (a second layer's units); Ax proposes them only then (a hierarchical search space)
    dependents: dict[str, list[str]] | None = None

    def dependents_by_value(self) -> dict[Any, list[str]]:
        """`dependents` keyed by the choice values themselves (YAML keys arrive as strings)."""
        by_text = {str(v): v for v in self.values or []}
        return {by_text[k]: list(names) for k, names in (self.dependents or {}).items()}


@dataclass(frozen=True)
class SearchSpace:
    parameters: dict[str, ParameterSpec]
    fixed: dict[str, int | float | str | bool] = field(default_factory=dict)
    description: str = ""
    path: str = field(default="", metadata={"internal": True})

    def defaults(self) -> dict[str, Any]:
        """Every parameter's default (or the middle of its range), plus the fixed values."""
        return {**{n: _default_of(s) for n, s in self.parameters.items()}, **self.fixed}


@dataclass(frozen=True)
class ReferenceConfig:
    """What a seed document reports for the system an experiment reproduces."""

    seed: str  # "000" .. "004"
    metric: str  # the figure's meaning in our names: val_accuracy, test_accuracy, ...
    value: float
    note: str = ""  # the seed's data and setting, for the comparison in RESULTS.md


@dataclass(frozen=True)
class StageConfig:
    """A fine-tuning stage (seed 001): the previous stage's model (or a logged run's) trained
    further on new data, named layers frozen, at a lower learning rate, reading the new data with
    the parent's cleaning, vocabulary and sequence length."""

    name: str
    data: DataConfig
    labels: LabelConfig | None = None  # None: the experiment's
    freeze: list[str] = field(default_factory=list)  # layer names: embedding, bilstm, ...
    # overrides of the parent's parameters; without learning_rate: the parent's / 10
    params: dict[str, int | float | str | bool] = field(default_factory=dict)
    start_from: str | None = None  # a run id or campaign (its best run) instead of the previous
    reference: ReferenceConfig | None = None


@dataclass(frozen=True)
class ExperimentConfig:
    name: str
    data: DataConfig
    search_space: str  # a name in search_spaces/ or a path to a YAML file
    description: str = ""
    labels: LabelConfig = LabelConfig()
    cleaning: list[str] = field(default_factory=list)
    split: SplitConfig = SplitConfig()
    vectorization: VectorizationConfig = VectorizationConfig()
    model: ModelConfig = ModelConfig()
    objective: ObjectiveConfig = ObjectiveConfig()
    optimizer: OptimizerConfig = OptimizerConfig()
    budget: BudgetConfig = BudgetConfig()
    early_stopping: EarlyStoppingConfig = EarlyStoppingConfig()
    racing: RacingConfig = RacingConfig()
    execution: ExecutionConfig = ExecutionConfig()
    intensify: IntensifyConfig | None = None  # absent: off (see run_config.IntensifyConfig)
    refit: RefitConfig | None = None  # absent: the tuned-split winner is the final model
    election: ElectionConfig = ElectionConfig()
    seed: int = 0
    reference: ReferenceConfig | None = None  # the seed's reported figure, for RESULTS.md
    stages: list[StageConfig] = field(default_factory=list)  # fine-tuning after the campaign
    path: str = field(default="", metadata={"internal": True})
    space: SearchSpace | None = field(default=None, metadata={"internal": True})


# ---- parsing ---------------------------------------------------------------------------------


def parse_experiment(raw: dict[str, Any], where: str) -> ExperimentConfig:
    """An experiment from its dict (a YAML file, or a run's recorded config), types and values
    checked; registry names are checked by `sentiment_core.experiments`."""
    experiment = build(ExperimentConfig, raw, where, "")
    _check_experiment(experiment, where)
    return experiment


def parse_search_space(raw: dict[str, Any], where: str) -> SearchSpace:
    space = build(SearchSpace, raw, where, "")
    for name, spec in space.parameters.items():
        _check_parameter(spec, where, f"parameters.{name}")
    clash = set(space.parameters) & set(space.fixed)
    if clash:
        raise InputError(where, f"fixed.{sorted(clash)[0]}", "is both tuned and fixed")
    _check_dependents(space, where)
    return space


def to_dict(config: Any) -> dict[str, Any]:
    """The YAML-shaped dict of a config (internal fields left out): what gets logged and hashed."""
    out = {}
    for f in dataclasses.fields(config):
        if f.metadata.get("internal"):
            continue
        value = getattr(config, f.name)
        out[f.name] = to_dict(value) if dataclasses.is_dataclass(value) else _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: to_dict(v) if dataclasses.is_dataclass(v) else _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_dict(v) if dataclasses.is_dataclass(v) else _plain(v) for v in value]
    return value


# ---- checks beyond types ---------------------------------------------------------------------


def _check_data(data: DataConfig, where: str, dotted: str) -> None:
    inline = [f.name for f in dataclasses.fields(SourceConfig)
              if getattr(data, f.name) is not None]
    if data.sources and inline:
        raise InputError(where, f"{dotted}.{inline[0]}",
                         "give one file inline or several under sources, not both")
    if not data.sources and data.dataset is None:
        raise InputError(where, f"{dotted}.dataset",
                         "is required (or list several files under sources)")
    for i, source in enumerate(data.all_sources()):
        at = f"{dotted}.sources[{i}]" if data.sources else dotted
        if source.max_rows is not None and source.max_rows < 1:
            raise InputError(where, f"{at}.max_rows", "must be at least 1")
        if source.dataset == "csv" and not (source.path and source.text_column
                                            and source.label_column):
            raise InputError(where, at, "dataset csv needs path, text_column and label_column")
        for raw, sentiment in (source.label_mapping or {}).items():
            if sentiment not in (*SENTIMENTS, "drop"):
                raise InputError(where, f"{at}.label_mapping.{raw}",
                                 f"must map to one of {', '.join(SENTIMENTS)}, drop; "
                                 f"got {sentiment!r}")


def _check_experiment(exp: ExperimentConfig, where: str) -> None:
    _check_data(exp.data, where, "data")
    if not 0 <= exp.labels.vader_threshold < 1:
        raise InputError(where, "labels.vader_threshold", "must be in [0, 1)")
    names = [stage.name for stage in exp.stages]
    for i, stage in enumerate(exp.stages):
        _check_data(stage.data, where, f"stages[{i}].data")
        if not stage.name or names.count(stage.name) > 1 or stage.name == "base":
            raise InputError(where, f"stages[{i}].name",
                             "stage names must be unique, non-empty and not 'base'")
        lr = stage.params.get("learning_rate")
        if lr is not None and (isinstance(lr, (str, bool)) or lr <= 0):
            raise InputError(where, f"stages[{i}].params.learning_rate", "must be above 0")
    s = exp.split
    for name in ("validation", "test"):
        if not 0 < getattr(s, name) < 1:
            raise InputError(where, f"split.{name}", "must be between 0 and 1")
    if s.validation + s.test >= 0.9:
        raise InputError(where, "split", "validation + test must leave at least 10% to train on")
    v = exp.vectorization
    for name, low in (("max_tokens", 3), ("sequence_length", 1), ("min_count", 1),
                      ("pretrained_words", 0)):
        if getattr(v, name) < low:
            raise InputError(where, f"vectorization.{name}", f"must be at least {low}")
    if exp.objective.metric not in OBJECTIVE_METRICS:
        raise InputError(where, "objective.metric", f"unknown metric {exp.objective.metric!r} "
                                                    f"(known: {', '.join(OBJECTIVE_METRICS)})")
    for name in ("folds", "replicates"):
        if not 1 <= getattr(exp.objective, name) <= 20:
            raise InputError(where, f"objective.{name}", "must be between 1 and 20")
    if exp.budget.trials < 1:
        raise InputError(where, "budget.trials", "must be at least 1")
    if not 0 <= exp.budget.max_failure_rate <= 1:
        raise InputError(where, "budget.max_failure_rate", "must be between 0 and 1")
    if exp.optimizer.initialization_trials < 1:
        raise InputError(where, "optimizer.initialization_trials", "must be at least 1")
    if exp.optimizer.lean_after < 0:
        raise InputError(where, "optimizer.lean_after", "must be 0 (never) or more")
    if exp.optimizer.bayesian_concurrency < 0:
        raise InputError(where, "optimizer.bayesian_concurrency", "must be 0 (no cap) or more")
    check_early_stopping(exp, where)
    check_execution(exp.execution, where)
    check_intensify(exp, where)
    check_refit(exp, where)


def _check_dependents(space: SearchSpace, where: str) -> None:
    owners: dict[str, str] = {}
    for name, spec in space.parameters.items():
        if not spec.dependents:
            continue
        if spec.type != "choice":
            raise InputError(where, f"parameters.{name}.dependents", "only a choice has them")
        known = {str(v) for v in spec.values}
        for value, dependents in spec.dependents.items():
            if value not in known:
                raise InputError(where, f"parameters.{name}.dependents.{value}",
                                 f"is not one of the values {spec.values}")
            for dependent in dependents:
                if dependent not in space.parameters or dependent == name:
                    raise InputError(where, f"parameters.{name}.dependents.{value}",
                                     f"{dependent!r} is not another tuned parameter")
                if owners.setdefault(dependent, name) != name:
                    raise InputError(where, f"parameters.{name}.dependents.{value}",
                                     f"{dependent!r} already depends on {owners[dependent]}")


def _check_parameter(spec: ParameterSpec, where: str, dotted: str) -> None:
    if spec.type == "choice":
        if not spec.values:
            raise InputError(where, f"{dotted}.values", "a choice needs a non-empty list of values")
        if spec.bounds is not None:
            raise InputError(where, f"{dotted}.bounds", "a choice takes values, not bounds")
        if spec.default is not None and spec.default not in spec.values:
            raise InputError(where, f"{dotted}.default", "is not one of the values")
        return
    if spec.values is not None:
        raise InputError(where, f"{dotted}.values", f"an {spec.type} range takes bounds, not values")
    if spec.bounds is None or len(spec.bounds) != 2:
        raise InputError(where, f"{dotted}.bounds", "needs [low, high]")
    low, high = spec.bounds
    if not (math.isfinite(low) and math.isfinite(high)):
        raise InputError(where, f"{dotted}.bounds", f"must be finite numbers (got [{low}, {high}])")
    if low >= high:
        raise InputError(where, f"{dotted}.bounds", f"low must be below high (got [{low}, {high}])")
    if spec.type == "int" and not (float(low).is_integer() and float(high).is_integer()):
        raise InputError(where, f"{dotted}.bounds", "an int range needs whole-number bounds")
    if spec.log_scale and low <= 0:
        raise InputError(where, f"{dotted}.bounds", "a log-scale range needs low > 0")
    if spec.default is not None:
        if isinstance(spec.default, (str, bool)) or not low <= spec.default <= high:
            raise InputError(where, f"{dotted}.default", f"must lie within [{low}, {high}]")
        if spec.type == "int" and not float(spec.default).is_integer():
            raise InputError(where, f"{dotted}.default", "must be a whole number")


def _default_of(spec: ParameterSpec) -> Any:
    if spec.default is not None:
        return int(spec.default) if spec.type == "int" else spec.default
    if spec.type == "choice":
        return spec.values[0]
    low, high = spec.bounds
    middle = (math.exp((math.log(low) + math.log(high)) / 2) if spec.log_scale
              else low / 2 + high / 2)
    return int(round(middle)) if spec.type == "int" else middle


def coerce_param(space: SearchSpace, name: str, text: str,
                 options: dict[str, Any] | None = None) -> Any:
    """Parse a `--param NAME=VALUE` value to the parameter's type (a tuned parameter's, or the
    type of the fixed value it replaces, or of the default in `options`: training options the
    space leaves at their defaults); only InputError escapes."""
    options = options or {}
    spec = space.parameters.get(name)
    known = ", ".join(dict.fromkeys([*space.parameters, *space.fixed, *options]))
    if spec is None and name not in space.fixed and name not in options:
        raise InputError("--param", name, f"unknown parameter (known: {known})")
    default = space.fixed[name] if name in space.fixed else options.get(name)
    kind = spec.type if spec is not None else {bool: "bool", int: "int", float: "float"}.get(
        type(default), "any")
    if kind in ("int", "float"):
        try:
            value = int(text) if kind == "int" else float(text)
        except (ValueError, OverflowError):
            raise InputError("--param", name, f"expected {'an' if kind == 'int' else 'a'} "
                                              f"{kind}, got {text!r}") from None
        if kind == "float" and not math.isfinite(value):
            raise InputError("--param", name, f"must be a finite number, got {text!r}")
        return value
    try:
        parsed = load_yaml_text(text) if text.strip() else text
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError):
        parsed = text  # not YAML: the text as it is
    if kind == "bool" and not isinstance(parsed, bool):
        raise InputError("--param", name, f"expected true or false, got {text!r}")
    if spec is not None:  # a choice: the value of the same type, or the text of a string
        for candidate in (parsed, text):
            match = [v for v in spec.values if type(v) is type(candidate) and v == candidate]
            if match:
                return match[0]
        raise InputError("--param", name, f"must be one of {spec.values}, got {text!r}")
    if isinstance(parsed, (dict, list)) or parsed is None:
        raise InputError("--param", name, f"expected a single value, got {text!r}")
    return parsed
