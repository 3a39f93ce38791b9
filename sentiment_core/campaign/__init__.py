"""Campaigns: the ask -> train -> tell loop and everything around it.

loop (run_campaign: Ax asks, executors train, Ax is told, MLflow records), executors (where
trials run: inline, local processes, ray_executor for Ray tasks; worker is what runs in a
worker process), reproduce (retrain a trial from MLflow alone), store (where state lives), the two
adapters search (the only Ax importer) and tracking (the only MLflow importer), context (a
finished campaign opened for evaluation) and html_report.

Names load on first use, so `sentiment-hpo --help` does not pay for Ax, MLflow or TensorFlow.
"""

from importlib import import_module

_EXPORTS = {
    "run_campaign": "loop", "CampaignStopped": "loop", "CampaignSummary": "loop",
    "with_strategy": "loop", "git_commit": "loop",
    "Executor": "executors", "InlineExecutor": "executors", "LocalExecutor": "executors",
    "make_executor": "executors", "with_execution": "loop", "start_server": "tracking",
    "server_command": "tracking",
    "reproduce_trial": "reproduce", "Reproduction": "reproduce",
    "Store": "store", "Search": "search", "Tracker": "tracking", "start_ui": "tracking",
    "CampaignContext": "context", "open_campaign": "context", "resolve_model": "context",
    "election": "context", "log_election": "context",
    "write_report": "html_report",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
