"""The MLflow app plugin `sentiment-hpo` (`mlflow server --app-name sentiment-hpo`, registered
under the `mlflow.app` entry point in pyproject.toml): MLflow's own server plus one page on the
same origin, OPEN_ROUTE, that opens a campaign's saved view as a fresh browser's own view.

Why a page on the server's origin: what stands between a tuner and the trials lives in the
browser's localStorage, which only a page of that origin can write. The page
- marks the MLflow Assistant as already shown and closed (it opens by itself, once per browser
  profile, on a loopback host; no URL, tag or server flag turns it off);
- copies the view `ui` saved in the experiment tag `mlflow.sharedViewState.<key>` (columns,
  charts) into the experiment page's own persisted state, as MLflow's "Override saved view"
  does, so no viewStateShareKey link (and no "shared view" banner) is needed;
- then goes to the runs page with the filter and sort in the address (compareRunsMode=CHART
  for the charts link).
The storage keys were read from MLflow's UI bundle (mlflow/server/js/build) of the versions
pyproject.toml pins; tests/test_ui_page.py checks them in headless Chromium.

MLflow imports this module in its server process (the only place it runs); sentiment-hpo's
own code reads only the names above `create_app`, which import nothing.
"""

from __future__ import annotations

import os

APP_NAME = "sentiment-hpo"
OPEN_ROUTE = "/sentiment-hpo/open"
# localStorage keys of MLflow 3.17-3.18's UI (useLocalStorage: `${key}_v${version}`, JSON).
ASSISTANT_SHOWN = "mlflow.assistant.fab.autoOpenedOnFirstLoad_v1"
ASSISTANT_OPEN = "mlflow.assistant.panelOpen_v1"
# LocalStorageStore("ExperimentPage", JSON.stringify(sorted ids)): "MLflowLocalStorage-1.1-"
# + scope + "-ReactComponentState"
EXPERIMENT_STATE = "MLflowLocalStorage-1.1-ExperimentPage-{ids}-ReactComponentState"
# what the runs page reads from its address (the rest of a view lives in the persisted state)
URL_FACETS = ("searchFilter", "orderByKey", "orderByAsc", "startTime", "lifecycleFilter",
              "modelVersionFilter", "datasetsFilter")

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Opening the campaign ...</title></head>
<body><p id="status">Opening the campaign's view ...</p>
<script>
(async () => {
  const query = new URLSearchParams(location.search);
  const id = query.get("experiment"), key = query.get("view"), charts = query.get("charts");
  const root = location.pathname.slice(0, location.pathname.lastIndexOf("%(route)s"));
  const show = (text) => { document.getElementById("status").textContent = text; };
  localStorage.setItem("%(shown)s", "true");
  localStorage.setItem("%(open)s", "false");
  const address = new URLSearchParams();
  try {
    const answer = await fetch(root + "/ajax-api/2.0/mlflow/experiments/get?experiment_id="
                               + encodeURIComponent(id));
    const tags = (await answer.json()).experiment.tags || [];
    const tag = tags.find((t) => t.key === "mlflow.sharedViewState." + key);
    const state = JSON.parse(JSON.parse(tag.value).state);
    if (charts === "1" && state.chartsOrderByKey) {
      state.orderByKey = state.chartsOrderByKey;
      state.orderByAsc = true;
    }
    delete state.chartsOrderByKey;
    localStorage.setItem("%(state)s".replace("{ids}", JSON.stringify([id])),
                         JSON.stringify(state));
    for (const facet of %(facets)s) {
      if (state[facet] !== undefined && typeof state[facet] !== "object") {
        address.set(facet, String(state[facet]));
      }
    }
  } catch (error) {
    show("No saved view " + key + " in experiment " + id + " (" + error + "): its runs instead.");
  }
  if (charts === "1") address.set("compareRunsMode", "CHART");
  address.set("workflowType", "machine_learning");
  location.replace(root + "/#/experiments/" + encodeURIComponent(id) + "/runs?" + address);
})();
</script></body></html>
"""


def landing_page() -> str:
    import json

    return PAGE % {"route": OPEN_ROUTE, "shown": ASSISTANT_SHOWN, "open": ASSISTANT_OPEN,
                   "state": EXPERIMENT_STATE, "facets": json.dumps(list(URL_FACETS))}


def create_app():
    """MLflow's app with OPEN_ROUTE added: the ASGI app under uvicorn (MLflow's default), the
    Flask app under gunicorn or waitress."""
    from flask import Response
    from mlflow.server import app

    if OPEN_ROUTE not in {rule.rule for rule in app.url_map.iter_rules()}:
        page = landing_page()
        app.add_url_rule(OPEN_ROUTE, "sentiment_hpo_open",
                         lambda: Response(page, mimetype="text/html",
                                          headers={"Cache-Control": "no-store"}))
    # MLflow's server command sets this for its app; basic-auth reads it the same way
    if os.environ.get("_MLFLOW_SGI_NAME", "uvicorn") == "uvicorn":
        from mlflow.server.fastapi_app import app as asgi  # wraps the same Flask app

        return asgi
    return app
