"""The saved view `ui` writes for a campaign (the experiment tag
`mlflow.sharedViewState.<key>`, JSON of MLflow's runs-page state): the trials table and the
charts of the search.

    trials_view("gop-1", "val_macro_f1", "maximize", ["learning_rate", ...], spread=True,
                runs=40, parent_run=run_id, varying=["learning_rate", ...])

Field names are those of MLflow 3.17-3.18's UI (mlflow/server/js/build): the state keys
selectedColumns, columnWidths, runsExpanded, runsHiddenMode, compareRunCharts and
compareRunSections; chart cards of type PARALLEL (selectedParams, selectedMetrics,
showAllRuns), BAR (metricKey, runsCountToCompare) and SCATTER (xaxis / yaxis: {key, type
PARAM | METRIC}); a section's `columns` (cards per row, default 3) and `cardHeight`.
"""

from __future__ import annotations

import json
import time
from typing import Any

WIDE_SECTION = "sentiment-hpo-parallel"  # one card per row: the parallel coordinates
CARDS_SECTION = "sentiment-hpo-search"   # three per row: by trial, spread, per parameter


def column_width(column: str) -> int:
    """Pixels for the column's name and no more: MLflow shows a cell's value cut to the width
    (no number format in its OSS table), the exact value in the cell's tooltip."""
    name = column.split("`")[1] if "`" in column else column
    return max(80, 7 * len(name) + 24)


def _card(kind: str, uuid: str, section: str = CARDS_SECTION, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "uuid": uuid, "metricSectionId": section, "deleted": False,
            "isGenerated": False, **fields}


def _section(uuid: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"uuid": uuid, "name": name, "display": True, "isReordered": False,
            "deleted": False, "isGenerated": False, **fields}


def search_charts(metric: str, varying: list[str], spread: bool,
                  runs: int) -> list[dict[str, Any]]:
    """The cards of the search: parallel coordinates of the parameters that vary against the
    objective, the objective per trial (the charts link lists trials in start order, i.e. by
    trial index), its sd over folds / seeds when trials have several units, and the objective
    against each varying parameter."""
    shown = max(runs, 100)  # every trial, not MLflow's first 10
    cards = [
        _card("PARALLEL", "search-parallel", WIDE_SECTION, selectedParams=list(varying),
              selectedMetrics=[metric], showAllRuns=True),
        _card("BAR", "search-by-trial", metricKey=metric, runsCountToCompare=shown),
    ]
    if spread:
        cards.append(_card("BAR", "search-spread", metricKey=f"{metric}_sd",
                           runsCountToCompare=shown))
    cards += [_card("SCATTER", f"search-slice-{p}", xaxis={"key": p, "type": "PARAM"},
                    yaxis={"key": metric, "type": "METRIC"}, runsCountToCompare=shown)
              for p in varying]
    return cards


def trials_view(campaign: str, metric: str, direction: str, parameters: list[str],
                spread: bool = False, runs: int = 0, parent_run: str = "",
                varying: list[str] | None = None) -> str:
    """The tag value: the campaign's own trials, best first, the objective (with its sd over
    folds / seeds when `spread`) and the parameters as columns; the charts of the parameters
    that vary (`varying`, default all). `chartsOrderByKey` is the charts link's order (read by
    ui_app's landing page only): start time, i.e. trial index; MLflow then nests the trials
    under the campaign run `parent_run`, which the view keeps expanded."""
    varying = list(parameters if varying is None else varying)
    metrics = [f"metrics.`{metric}`", *([f"metrics.`{metric}_sd`"] if spread else [])]
    columns = [*metrics, *(f"params.`{p}`" for p in parameters)]
    quoted = campaign.replace("'", "\\'")
    state = {
        "searchFilter": f"tags.campaign = '{quoted}' and tags.source = 'campaign'",
        "orderByKey": f"metrics.`{metric}`",
        "orderByAsc": direction == "minimize",
        "chartsOrderByKey": "attributes.start_time",  # trial index order
        "selectedColumns": columns,
        "columnOrder": ["attributes.`Duration`", *columns],  # the space's order, not A-Z
        "columnWidths": {c: column_width(c) for c in columns},
        "runsExpanded": {parent_run: True} if parent_run else {},
        "runsHiddenMode": "SHOW_ALL",  # every trial in the charts, not the first 10
        "compareRunCharts": search_charts(metric, varying, spread, runs),
        "compareRunSections": [
            _section(WIDE_SECTION, f"{campaign}: the parameters against {metric}", columns=1,
                     cardHeight=420),
            _section(CARDS_SECTION, f"{campaign}: {metric} by trial"
                     + (", its spread" if spread else "") + " and per parameter")],
        "isAccordionReordered": True,  # MLflow's generated sections go after these
    }
    now = int(time.time() * 1000)
    return json.dumps({"name": f"campaign {campaign}: trials by {metric}", "createdAt": now,
                       "updatedAt": now, "state": json.dumps(state)})
