"""The MLflow UI of a store or server, landing on a campaign's trials; MLflow is not imported
here (the `ui` process only waits for the server, so it stays small: it speaks REST).

    server = start_server(Path("mlruns"), "127.0.0.1", 5000)   # lean: 1 worker, no job runner
    api = MlflowRest("http://127.0.0.1:5000")
    page = campaign_page(api, "gop-1", "http://127.0.0.1:5000")
    page.trials_url   # the campaign's trials, best first, objective + parameters as columns

What MLflow 3.17's UI offers for this, read from its JS bundle (mlflow/server/js/build):
- `?workflowType=machine_learning` opens the "Model training" side of the UI (runs, models)
  instead of GenAI (traces, sessions, evaluation runs); the experiment tag
  `mlflow.experimentKind` = `custom_model_development` records the experiment's kind.
- Saved views: an experiment tag `mlflow.sharedViewState.<id>` holds
  {"name", "createdAt", "updatedAt", "state": JSON of the runs page: searchFilter, orderByKey,
  orderByAsc, selectedColumns, ...}; `#/experiments/<id>/runs?viewStateShareKey=<id>` opens it
  (the link MLflow's own "Copy link" gives). Row expansion is not part of a view, so the view
  filters on the campaign's trials, which then list flat instead of under a collapsed parent.
  The UI then adds the filter and sort to the address, so a reload keeps those but not the
  columns; "Override saved view" makes the view the browser's own for the experiment.
- The assistant panel: its state lives in the browser's localStorage
  (`mlflow.assistant.panelOpen`); it opens by itself on the first visit of a browser profile
  to localhost/127.0.0.1 and stays closed once closed. No URL or tag closes it.
- A viewStateShareKey link shows a "You're viewing a shared view" banner above the table.
So the server `ui` starts runs the app plugin `ui_app` (same origin), whose landing page closes
the assistant, makes the saved view the browser's own and opens the runs page; a server
without the plugin gets the viewStateShareKey link. The metrics table has no number format
in MLflow's OSS build (its per-metric formatter map is empty), so the view sizes each column
to its name: a cell shows ~8 digits, its tooltip the exact logged value.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from ... import tags as T
from .ui_view import trials_view

EXPERIMENT_KIND_TAG = T.EXPERIMENT_KIND
MODEL_TRAINING = T.MODEL_TRAINING
VIEW_TAG_PREFIX = T.SHARED_VIEW_PREFIX
WORKFLOW = "workflowType=machine_learning"


class MlflowServerError(RuntimeError):
    """The MLflow server could not be reached or refused a request."""


@dataclass
class MlflowRest:
    base: str  # http://host:port of a running server
    timeout: float = 10.0

    def __post_init__(self) -> None:
        self.base = self.base.rstrip("/")

    def call(self, endpoint: str, body: dict[str, Any] | None = None,
             query: dict[str, str] | None = None) -> dict[str, Any]:
        url = f"{self.base}/api/2.0/mlflow/{endpoint}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as err:
            detail = err.read().decode("utf-8", "replace")[:300]
            raise MlflowServerError(f"{self.base}: {endpoint} answered {err.code} {detail}") \
                from None
        except (OSError, ValueError) as err:
            raise MlflowServerError(f"{self.base}: {endpoint} failed ({err})") from None

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base}/health", timeout=2) as response:
                return response.status == 200
        except (OSError, ValueError):
            return False

    def serves_landing(self) -> bool:
        """The server runs the app plugin (ui_app): its landing page answers."""
        from .ui_app import OPEN_ROUTE

        try:
            with urllib.request.urlopen(self.base + OPEN_ROUTE, timeout=5) as response:
                return response.status == 200 and b"sharedViewState" in response.read()
        except (OSError, ValueError):
            return False

    def experiment_ids(self) -> list[str]:
        ids, token = [], None
        while True:
            body = {"max_results": 1000, **({"page_token": token} if token else {})}
            answer = self.call("experiments/search", body)
            ids += [e["experiment_id"] for e in answer.get("experiments", [])]
            token = answer.get("next_page_token")
            if not token:
                return ids

    def search_runs(self, experiment_ids: list[str], filter_string: str,
                    max_results: int = 1000) -> list[dict[str, Any]]:
        if not experiment_ids:
            return []
        answer = self.call("runs/search", {"experiment_ids": experiment_ids,
                                           "filter": filter_string, "max_results": max_results})
        return answer.get("runs", [])

    def experiment_tags(self, experiment_id: str) -> dict[str, str]:
        answer = self.call("experiments/get", query={"experiment_id": experiment_id})
        return {t["key"]: t["value"] for t in answer["experiment"].get("tags", [])}

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self.call("experiments/set-experiment-tag",
                  {"experiment_id": experiment_id, "key": key, "value": value})


@dataclass
class CampaignPage:
    name: str
    experiment_id: str
    run_id: str
    metric: str
    parameters: list[str]
    trials: int
    trials_url: str
    run_url: str
    charts_url: str


def tags_of(run: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run.get("data", {}).get("tags", [])}


def _quote(text: str) -> str:
    return text.replace("'", "\\'")


def model_training_mode(api: MlflowRest, experiment_id: str) -> None:
    """Tag the experiment as model training, unless someone chose another kind on purpose."""
    kind = api.experiment_tags(experiment_id).get(EXPERIMENT_KIND_TAG, "")
    if kind in ("", "no_inferred_type") or kind.endswith("_inferred"):
        api.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, MODEL_TRAINING)


def view_id(campaign: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9_-]", "_", campaign)[:200]
    return f"campaign-{clean}"


def varying(trials: list[dict[str, Any]], parameters: list[str]) -> list[str]:
    """The parameters that take more than one value among the trials (fixed ones would be
    flat axes in the charts); all of them while fewer than two trials exist."""
    values = {p: {q["value"] for r in trials for q in r["data"].get("params", [])
                  if q["key"] == p} for p in parameters}
    moving = [p for p in parameters if len(values[p]) > 1]
    return moving if len(trials) > 1 else list(parameters)


def campaign_page(api: MlflowRest, name: str, public_base: str) -> CampaignPage | None:
    """Find campaign `name`, put its experiment in model-training mode, save the trials view;
    None when there is no such campaign. The links open through the app plugin's landing page
    when the server has it (no assistant panel, no shared-view banner), else by the view's
    share key."""
    from .ui_app import OPEN_ROUTE

    ids = api.experiment_ids()
    found = api.search_runs(ids, f"tags.kind = 'campaign' and tags.campaign = "
                                 f"'{_quote(name)}'", max_results=1)
    if not found:
        return None
    parent = found[0]
    experiment_id, run_id = parent["info"]["experiment_id"], parent["info"]["run_id"]
    tags = tags_of(parent)
    typed = T.CampaignTags.of(tags)
    metric, direction = typed.objective, typed.direction
    trials = api.search_runs([experiment_id], f"tags.mlflow.parentRunId = '{run_id}' and "
                                              "tags.source = 'campaign'")
    if typed.parameters:
        parameters = typed.parameters
    else:  # campaigns recorded before the tag: the trials' parameters, sorted
        parameters = sorted({p["key"] for r in trials for p in r["data"].get("params", [])})
    units = typed.units
    model_training_mode(api, experiment_id)
    view = view_id(name)
    api.set_experiment_tag(experiment_id, VIEW_TAG_PREFIX + view,
                           trials_view(name, metric, direction, parameters, units > 1,
                                       len(trials), run_id, varying(trials, parameters)))
    base = public_base.rstrip("/")
    if api.serves_landing():
        query = urllib.parse.urlencode({"experiment": experiment_id, "view": view})
        trials_url = f"{base}{OPEN_ROUTE}?{query}"
        charts_url = f"{trials_url}&charts=1"
    else:
        trials_url = (f"{base}/#/experiments/{experiment_id}/runs?viewStateShareKey="
                      f"{urllib.parse.quote(view)}&{WORKFLOW}")
        charts_url = f"{trials_url}&compareRunsMode=CHART"
    return CampaignPage(
        name, experiment_id, run_id, metric, parameters, len(trials), trials_url=trials_url,
        run_url=f"{base}/#/experiments/{experiment_id}/runs/{run_id}?{WORKFLOW}",
        charts_url=charts_url)


def all_campaigns_model_training(api: MlflowRest) -> int:
    """Model-training mode for every experiment that holds a campaign; how many."""
    runs = api.search_runs(api.experiment_ids(), "tags.kind = 'campaign'")
    experiments = sorted({r["info"]["experiment_id"] for r in runs})
    for experiment_id in experiments:
        model_training_mode(api, experiment_id)
    return len(experiments)


def overview_url(public_base: str) -> str:
    return f"{public_base.rstrip('/')}/#/experiments?{WORKFLOW}"
