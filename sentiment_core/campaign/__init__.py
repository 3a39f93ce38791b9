"""Campaigns: the ask -> train -> tell loop and everything around it.

loop (run_campaign: Ax asks, executors train, Ax is told, MLflow records), stages (fine-tuning
after a campaign, seed 001), results (RESULTS.md from the store), executors (where trials run:
inline, local processes, ray_executor for Ray tasks; worker is what runs in a worker process),
reproduce (retrain a trial from MLflow alone), store (where state lives), lock (one driver
per campaign name), records (Ax and MLflow agree after any fault), the two adapters search
(the only Ax importer) and tracking (the only MLflow importer), ui (the MLflow UI over REST, no
MLflow import), context (a finished campaign opened for evaluation) and html_report.

Names load on first use, so `sentiment-hpo --help` does not pay for Ax, MLflow or TensorFlow.
"""

from importlib import import_module

_EXPORTS = {
    "run_campaign": "loop", "CampaignStopped": "loop", "CampaignSummary": "loop",
    "with_strategy": "loop", "git_commit": "loop", "TrackingLost": "loop",
    "CampaignBusy": "lock", "campaign_lock": "lock",
    "check_agreement": "records", "reconcile": "records",
    "Executor": "executors", "InlineExecutor": "executors", "LocalExecutor": "executors",
    "make_executor": "executors", "with_execution": "loop", "start_tracking_server": "tracking",
    "tracking_server_command": "tracking",
    "reproduce_trial": "reproduce", "Reproduction": "reproduce",
    "Store": "store", "Search": "search", "Tracker": "tracking",
    "start_server": "ui", "server_command": "ui", "MlflowRest": "ui", "is_server": "ui",
    "backend_uri": "ui", "campaign_page": "ui", "all_campaigns_model_training": "ui",
    "overview_url": "ui",
    "CampaignContext": "context", "open_campaign": "context", "resolve_model": "context",
    "election": "context", "log_election": "context",
    "write_report": "html_report", "log_baselines": "loop",
    "run_stages": "stages", "benchmark": "stages", "format_benchmark": "stages",
    "StageResult": "stages", "stage_experiment": "stages", "stage_data": "stages",
    "write_results": "results", "results_table": "results",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
