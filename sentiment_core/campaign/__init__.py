"""Campaigns: the ask -> train -> tell loop and everything around it, in five parts (each import
points down this list):

- store/: where state lives (`paths.Store`), the per-name `lock`, and the two adapters, `search`
  (the only Ax importer) and `tracking` (the only MLflow importer);
- execution/: where trials run: executors by name (inline, local, ray; `registry`), the worker
  path they share, and what they exchange with the campaign (`protocol`);
- serving/: the MLflow tracking server and UI (`server`, `ui`);
- engine/: what runs a campaign: `lifecycle`, `scheduler`, `recorder` beside `reconcile`, the
  campaign `record`, `scoring` (the test split, scored once);
- review/: what reads a finished campaign: `context`, the HTML report, `results`, `reproduce`,
  `stages`.

Names load on first use, so `sentiment-hpo --help` does not pay for Ax, MLflow or TensorFlow.
"""

from importlib import import_module

_EXPORTS = {
    "Store": "store.paths", "Search": "store.search", "Tracker": "store.tracking",
    "CampaignBusy": "store.lock", "campaign_lock": "store.lock",
    "Executor": "execution.protocol", "InlineExecutor": "execution.inline",
    "LocalExecutor": "execution.local", "make_executor": "execution.registry",
    "server_command": "serving.server", "start_server": "serving.server",
    "stop_server": "serving.server",
    "backend_uri": "serving.server", "is_server": "serving.server",
    "MlflowRest": "serving.ui", "campaign_page": "serving.ui",
    "all_campaigns_model_training": "serving.ui", "overview_url": "serving.ui",
    "run_campaign": "engine.lifecycle", "CampaignSummary": "engine.lifecycle",
    "TrackingLost": "engine.lifecycle", "CampaignStopped": "engine.scheduler",
    "with_strategy": "engine.provenance", "with_execution": "engine.provenance",
    "git_commit": "engine.provenance", "best_trial": "engine.record",
    "check_agreement": "engine.reconcile", "reconcile": "engine.reconcile",
    "log_baselines": "engine.scoring",
    "CampaignContext": "review.context", "open_campaign": "review.context",
    "resolve_model": "review.context", "election": "review.context",
    "log_election": "review.context", "write_report": "review.html_report",
    "reproduce_trial": "review.reproduce", "Reproduction": "review.reproduce",
    "run_stages": "review.stages", "benchmark": "review.stages",
    "format_benchmark": "review.stages", "StageResult": "review.stages",
    "stage_experiment": "review.stages", "stage_data": "review.stages",
    "write_results": "review.results", "results_table": "review.results",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
