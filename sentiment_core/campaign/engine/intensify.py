"""Intensification: before a campaign ends, its top trials get further seeds until each has
`intensify.min_units` units, and the winner is the best of them by the mean over all its units.

    plan = intensify_plan(experiment, trials)   # None when the experiment has no `intensify`
    intensify(record, plan)                     # after the search, before the winner is scored

The budget is counted in units (trials x units a trial): `plan.reserve` trials are kept back
from the search (`plan.search_trials` run there), and intensification trains at most the units
they hold, so a campaign never trains more units than `trials` trials would. Seeds continue the
trial's own (seed + units so far), on the fixed split.

What it writes, per intensified trial, MLflow first and then Ax (a process that dies between
resumes here: the unit_* histories are the record of what was trained):
  - each new unit's metrics as unit_* at the next steps (a one-unit trial's first unit is
    logged at step 1 first);
  - the means over all units under the trial's own metric names (its objective is the full
    mean), `<metric>_sd` / `_sem`, the first units' mean as `initial_<metric>`, tags
    `intensified` (the unit count) and `units`;
  - a model, where the trial had none (it was never the best during the search): the ensemble
    of its intensification seeds;
  - Ax told the full mean and its standard error (`Search.retell`), so its model and
    `predicted_best` see what the best-trial rule sees.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from ... import tags as T
from ...config import ExperimentConfig
from ...run_config import check_intensify, intensify_reserve
from ...evaluation import TextClassifier
from ...trial import run_objective
from .record import CampaignRecord, eligible
from .scoring import validation_details


@dataclass(frozen=True)
class IntensifyPlan:
    top: int
    min_units: int
    units: int  # units a trial has after the search (objective.replicates)
    reserve: int  # trials kept back from the search
    search_trials: int

    @property
    def allowance(self) -> int:
        """Units intensification may train in all (what the kept-back trials hold)."""
        return self.reserve * self.units


def intensify_plan(experiment: ExperimentConfig, trials: int) -> IntensifyPlan | None:
    """The split of `trials` between the search and intensification; InputError naming
    --trials when too few are left for the search."""
    config = experiment.intensify
    if config is None:
        return None
    check_intensify(experiment, f"experiment {experiment.name}", trials, "--trials")
    reserve, _ = intensify_reserve(experiment, trials)
    return IntensifyPlan(config.top, config.min_units, experiment.objective.replicates,
                         reserve, trials - reserve)


def unit_history(tracker, run_id: str, key: str) -> list[float]:
    """A trial's per-unit values of `key` (metric unit_<key>), in unit order."""
    by_step: dict[int, tuple[int, float]] = {}
    for m in tracker.client.get_metric_history(run_id, f"unit_{key}"):
        if m.step not in by_step or m.timestamp >= by_step[m.step][0]:
            by_step[m.step] = (m.timestamp, m.value)
    return [by_step[step][1] for step in sorted(by_step)]


def units_of(tracker, row: dict[str, Any], metric: str) -> int:
    if f"unit_{metric}" in row["metrics"]:
        return len(unit_history(tracker, row["run_id"], metric))
    return max(1, len(T.trial_tags(row).units))


def intensify(record: CampaignRecord, plan: IntensifyPlan) -> list[dict[str, Any]]:
    """Seeds for the top trials until each has `plan.min_units` units, within the plan's
    allowance; returns, per intensified trial: index, run_id, units, initial and full mean."""
    tracker, metric, exp = record.tracker, record.metric, record.experiment
    rows = eligible(record.rows(), metric)
    sign = -1 if record.direction == "maximize" else 1
    top = sorted(rows, key=lambda r: sign * r["metrics"][metric])[:plan.top]
    have = {r["run_id"]: units_of(tracker, r, metric) for r in rows}
    left = plan.allowance - sum(max(0, n - plan.units) for n in have.values())
    params_of = {t["trial_index"]: t["params"] for t in record.search.trials()}
    out = []
    for row in top:
        index, units = int(row["tags"][T.AX_TRIAL_INDEX]), have[row["run_id"]]
        need = min(plan.min_units - units, max(left, 0))
        result = None
        if need > 0:
            record.progress(f"intensify: trial {index} ({metric} {row['metrics'][metric]:.4f} "
                            f"over {units} unit{'s' * (units > 1)}) + {need} seed"
                            f"{'s' * (need > 1)}")
            result = _more_units(record, row, {**params_of[index], **exp.space.fixed}, units,
                                 need)
            left -= need
        if units + need <= 1 and not row["tags"].get(T.INTENSIFIED):
            continue  # nothing to average (no allowance left)
        out.append(_record_full_mean(record, row, index, result))
    return out


def _more_units(record: CampaignRecord, row: dict[str, Any], params: dict[str, Any],
                units: int, need: int):
    """Train `need` more seeds of the trial, each unit's metrics logged as it ends."""
    tracker, exp, run_id = record.tracker, record.experiment, row["run_id"]

    def on_unit(number: int, name: str, unit) -> None:
        if number == 1 and units == 1 and f"unit_{record.metric}" not in row["metrics"]:
            # a one-unit trial's value is its unit's: it becomes unit 1 of the history
            tracker.log_metrics(run_id, {f"unit_{k}": row["metrics"][k] for k in unit.metrics
                                         if k in row["metrics"]}, step=1)
        tracker.log_metrics(run_id, {f"unit_{k}": v for k, v in unit.metrics.items()},
                            step=units + number)

    return run_objective(params, record.data, exp.seed + units, exp.model.family,
                         replicates=need, on_unit=on_unit)


def _record_full_mean(record: CampaignRecord, row: dict[str, Any], index: int,
                      result) -> dict[str, Any]:
    """MLflow (means over all units, tags, a model where there was none), then Ax."""
    tracker, metric, run_id = record.tracker, record.metric, row["run_id"]
    keys = [m[len("unit_"):] for m in tracker.client.get_run(run_id).data.metrics
            if m.startswith("unit_")]
    history = {k: unit_history(tracker, run_id, k) for k in keys}
    values = history[metric]
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    full = {k: statistics.fmean(v) for k, v in history.items() if v}
    logged = {**full, f"{metric}_sd": sd, "noise_n": len(values)}
    # Ax gets the pooled standard error where the campaign tells one (never a mix)
    told = record.observation(full[metric], len(values))
    if isinstance(told, tuple):
        logged[f"{metric}_sem"] = told[1]
    initial = row["metrics"].get(f"initial_{metric}", row["metrics"][metric])
    logged[f"initial_{metric}"] = initial
    step = max((m.step for m in tracker.client.get_metric_history(run_id, metric)),
               default=0) + 1
    tracker.log_metrics(run_id, logged, step=step)
    seed = record.experiment.seed
    tracker.set_tags(run_id, {T.INTENSIFIED: len(values), T.UNITS: ", ".join(
        f"seed {seed + i}" for i in range(len(values)))})
    if result is not None and not row["tags"].get(T.MODEL_URI):
        _log_model(record, run_id, result)
    record.search.retell(index, {metric: told})
    record.progress(f"intensify: trial {index} {metric} {full[metric]:.4f} ± {sd:.4f} over "
                    f"{len(values)} units (first units: {initial:.4f})")
    return {"index": index, "run_id": run_id, "units": len(values), "initial": initial,
            "full": full[metric]}


def _log_model(record: CampaignRecord, run_id: str, result) -> None:
    """The ensemble of the intensification seeds, for a trial that logged no model (its
    threshold chosen on their validation predictions); the run is finished again after.
    Its own validation scores replace the search units' ensemble's as `pooled_val_*` (Table 5's
    `(model)` column): a validation -> test line then compares this model with itself."""
    data = record.data
    details = validation_details(result.val_true, result.val_proba, data.class_names,
                                 "pooled_val_")
    classifier = TextClassifier(result.model, data.vocabulary, record.experiment.cleaning,
                                data.sequence_length, data.class_names,
                                details.get("pooled_val_opt_threshold", 0.5))
    step = max((m.step for m in record.tracker.client.get_metric_history(
        run_id, f"pooled_{record.metric}")), default=0) + 1
    record.tracker.log_metrics(run_id, details, step=step)
    record.tracker.log_classifier(run_id, classifier)
    record.tracker.set_tags(run_id, {T.MODEL_ROLE: "tuned_split (intensification seeds)"})
    record.tracker.end_run(run_id, "FINISHED")
