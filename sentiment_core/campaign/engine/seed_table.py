"""Seed 000's Table 5 attached to a campaign as prior knowledge (`--attach-seed-table`): its
rows become Ax trials and MLflow runs tagged source=paper, never the campaign's best."""

from __future__ import annotations

from ... import tags as T
from ...config import ExperimentConfig
from ...errors import InputError
from ...evaluation import seed_rows
from .record import CampaignRecord


def check_seed_table_fits(experiment: ExperimentConfig) -> None:
    """Checked before anything is written."""
    space = experiment.space
    for _, params, _ in seed_rows():
        for name, value in params.items():
            spec = space.parameters.get(name)
            if spec is None or spec.type == "choice" or not (
                    spec.bounds[0] <= value <= spec.bounds[1]):
                raise InputError(space.path, f"parameters.{name}",
                                 f"must be a range covering seed 000's Table 5 value {value} "
                                 "to attach the paper's rows")


def attach_seed_table(record: CampaignRecord) -> None:
    search, tracker = record.search, record.tracker
    known = {t["arm_name"] for t in search.trials()}
    for arm, params, value in seed_rows():
        if arm in known:
            continue
        index = search.attach(params, arm)
        run_id = tracker.start_trial(record.parent_id, arm,
                                     {**params, **record.experiment.space.fixed}, {
            T.CAMPAIGN: search.name, T.SOURCE: T.FROM_PAPER, T.AX_TRIAL_INDEX: index,
            T.ARM_NAME: arm, T.GENERATION: "attached",
            "note": "seed 000 Table 5: 2016 election tweets, weak labels, binary accuracy; "
                    "not comparable with this campaign's objective"})
        tracker.log_metrics(run_id, {"paper_keras_cv": value})
        tracker.end_run(run_id, "FINISHED")
    record.progress(f"attached seed 000's Table 5 ({len(seed_rows())} rows, tagged "
                    "source=paper)")
