"""Refit: the campaign's final model, the winner retrained on train + validation.

    refit = refit_winner(record, best)   # (run id, TextClassifier), or None without `refit`

The winner's parameters, trained for its best epoch count (the mean of `best_epoch` over its
units, rounded) with no validation split watching (`run_trial(validate=False)`), once per seed
(the campaign's seed, seed + 1, ...), averaged into one model (`trial.average_models`). The
test rows are never among its training rows. Its binary threshold is the winner's, chosen on
validation by the tuned-split model (the refit's own validation rows are training rows).

It is logged on a new child run (source=refit, kind=refit, refits=<winner's run id>), named on
the parent (`refit_run_id`), scored once on test in the winner's place and served by `predict
CAMPAIGN`; the winner's own model stays recorded beside it (model_role tuned_split). A resumed
campaign whose winner already has a refit uses it again.
"""

from __future__ import annotations

from typing import Any

from ... import tags as T
from ...data import train_plus_validation
from ...evaluation import TextClassifier
from ...trial import average_models, run_trial
from .record import CampaignRecord


def refit_epochs(best: dict[str, Any]) -> int:
    return max(1, int(round(best["metrics"].get("best_epoch", 1))))


def refit_winner(record: CampaignRecord, best: dict[str, Any]
                 ) -> tuple[str, TextClassifier] | None:
    config, tracker = record.experiment.refit, record.tracker
    if config is None:
        return None
    found = _existing(record, best["run_id"])
    if found is not None:
        return found
    exp, index = record.experiment, int(best["tags"][T.AX_TRIAL_INDEX])
    params = {**_params(record, index), **exp.space.fixed, "num_epochs": refit_epochs(best)}
    data = train_plus_validation(record.data)
    record.progress(f"refit: trial {index} on train + validation ({len(data.y_train)} rows), "
                    f"{params['num_epochs']} epochs, {config.seeds} seed"
                    f"{'s' * (config.seeds > 1)}")
    units = [run_trial(params, data, exp.seed + i, exp.model.family, validate=False)
             for i in range(config.seeds)]
    winner = tracker.load_classifier(best["run_id"])
    classifier = TextClassifier(average_models([u.model for u in units]), data.vocabulary,
                                exp.cleaning, data.sequence_length, data.class_names,
                                winner.threshold if winner else 0.5)
    run_id = tracker.start_trial(record.parent_id, f"refit-{index}", params, {
        T.KIND: "refit", T.SOURCE: T.FROM_REFIT, T.CAMPAIGN: record.name, T.REFITS:
        best["run_id"], T.AX_TRIAL_INDEX: index, T.MODEL_ROLE: "refit",
        T.UNITS: ", ".join(f"seed {u.seed}" for u in units), T.SEED: exp.seed,
        T.DATA_FINGERPRINT: data.fingerprint, T.GIT_COMMIT: record.commit})
    tracker.log_metrics(run_id, {"refit_epochs": params["num_epochs"],
                                 "refit_seeds": config.seeds, "train_rows": len(data.y_train),
                                 "time_fit_s": sum(u.timings["fit_s"] for u in units)})
    tracker.log_classifier(run_id, classifier)
    tracker.end_run(run_id, "FINISHED")
    tracker.set_tags(best["run_id"], {T.MODEL_ROLE: "tuned_split", T.REFIT_RUN_ID: run_id})
    tracker.set_tags(record.parent_id, {T.REFIT_RUN_ID: run_id})
    return run_id, classifier


def _params(record: CampaignRecord, index: int) -> dict[str, Any]:
    return next(t["params"] for t in record.search.trials() if t["trial_index"] == index)


def _existing(record: CampaignRecord, winner_run_id: str) -> tuple[str, Any] | None:
    for run in record.tracker.children(record.parent_id):
        tags = run.data.tags
        if tags.get(T.SOURCE) == T.FROM_REFIT and tags.get(T.REFITS) == winner_run_id \
                and run.info.status == "FINISHED" and tags.get(T.MODEL_URI):
            return run.info.run_id, record.tracker.load_classifier(run.info.run_id)
    return None
