"""Executors by name (`executor_registry.EXECUTORS`): a new executor is one module here and one
entry there; the YAML check and the CLI's choices read the same list."""

from __future__ import annotations

from ...config import ExecutionConfig
from ...executor_registry import executor_entry
from .protocol import Executor


def make_executor(execution: ExecutionConfig) -> Executor:
    return executor_entry(execution.executor).load().from_config(execution)
