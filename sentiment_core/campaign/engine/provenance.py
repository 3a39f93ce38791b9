"""What a campaign records about where it came from (commit, data file, resolved config), and
the CLI's overrides of an experiment, checked like its YAML."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from typing import Any

from ... import tags as T
from ...config import (
    PROJECT_ROOT,
    ExperimentConfig,
    check_early_stopping,
    check_execution,
    to_dict,
)
from ...data import PreparedData, resolve_dataset, sha256_of


def git_commit() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=PROJECT_ROOT, capture_output=True, text=True).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def trial_config(experiment: ExperimentConfig, params: dict[str, Any], seed: int,
                 data: PreparedData, commit: str) -> dict[str, Any]:
    """Everything `reproduce` needs, from MLflow alone: the resolved config of one trial."""
    return {"experiment": to_dict(experiment), "search_space": to_dict(experiment.space),
            "params": params, "seed": seed, "data_fingerprint": data.fingerprint,
            "git_commit": commit}


def data_tags(experiment: ExperimentConfig, data_dir: Path) -> dict[str, str]:
    """What a campaign's parent run records about its data (with `data_fingerprint`), so that
    report, election and reproduce find the file without --data-dir."""
    _, path = resolve_dataset(experiment, data_dir)
    return {T.EXPERIMENT: experiment.name, T.DATA_FILE: str(path.resolve()),
            T.DATA_SHA256: sha256_of(path)}


def with_strategy(experiment: ExperimentConfig, strategy: str | None) -> ExperimentConfig:
    """The experiment with a CLI override of the generation strategy."""
    if not strategy:
        return experiment
    return dataclasses.replace(experiment, optimizer=dataclasses.replace(
        experiment.optimizer, strategy=strategy))


def with_execution(experiment: ExperimentConfig, early_stopping: bool | None = None,
                   **overrides: Any) -> ExperimentConfig:
    """The experiment with CLI overrides of `execution` (None values keep the YAML's) and of
    `early_stopping.enabled`, checked like the YAML."""
    changes = {k: v for k, v in overrides.items() if v is not None}
    execution = dataclasses.replace(experiment.execution, **changes)
    if "workers" in changes and "executor" not in changes and execution.workers > 1 \
            and execution.executor == "inline":
        execution = dataclasses.replace(execution, executor="local")  # --workers N alone
    check_execution(execution, "command line")
    es = experiment.early_stopping
    if early_stopping is not None:
        es = dataclasses.replace(es, enabled=early_stopping)
    out = dataclasses.replace(experiment, execution=execution, early_stopping=es)
    check_early_stopping(out, "command line")
    return out
