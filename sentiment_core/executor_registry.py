"""Where trials can run, by name: the one list that the YAML check, the CLI's `--executor`
choices and the campaign's `make_executor` read.

    register_executor(ExecutorEntry("toy", "tests.toy:ToyExecutor", "..."))   # one entry

An entry names its class as "module:Class" (imported only by a campaign that uses it: Ray is
heavy) or gives the class itself. The class is built with `Class.from_config(execution)`
(an `ExecutionConfig`) and follows `campaign.execution.protocol.Executor`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class ExecutorEntry:
    name: str
    target: Any  # "package.module:Class", or the class
    help: str
    parallel: bool = True  # may run several trials at once (execution.workers > 1)
    ray_resources: bool = False  # takes gpus_per_trial (a Ray resource request)

    def load(self) -> Any:
        if not isinstance(self.target, str):
            return self.target
        module, _, name = self.target.partition(":")
        return getattr(import_module(module), name)


_EXECUTION = "sentiment_core.campaign.execution"
EXECUTORS: dict[str, ExecutorEntry] = {}


def register_executor(entry: ExecutorEntry) -> None:
    EXECUTORS[entry.name] = entry


def executor_names() -> list[str]:
    return list(EXECUTORS)


def executor_entry(name: str) -> ExecutorEntry:
    return EXECUTORS[name]


for _entry in (
        ExecutorEntry("inline", f"{_EXECUTION}.inline:InlineExecutor",
                      "this process, one trial at a time", parallel=False),
        ExecutorEntry("local", f"{_EXECUTION}.local:LocalExecutor", "worker processes"),
        ExecutorEntry("ray", f"{_EXECUTION}.ray:RayExecutor", "Ray tasks",
                      ray_resources=True)):
    register_executor(_entry)
