"""Every MLflow tag name the platform writes, in one place, with typed readers.

A campaign is a parent run (kind=campaign) with one child run per trial (kind=trial) and, beside
them, runs of other sources (reproduce, stage, paper rows). Writers use these names; readers use
`CampaignTags.of(tags)` / `TrialTags.of(tags)` instead of raw strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# ---- every run -----------------------------------------------------------------------------
KIND = "kind"  # campaign | trial | stage
CAMPAIGN = "campaign"  # the campaign's name, on the parent and on every child
SOURCE = "source"  # campaign | paper | reproduce | stage: what made a child run
PARENT_RUN_ID = "mlflow.parentRunId"  # MLflow's own nesting tag
ERROR = "error"
MODEL_URI = "model_uri"
GIT_COMMIT = "git_commit"
DATA_FINGERPRINT = "data_fingerprint"
SEED = "seed"

# ---- a campaign's parent run ---------------------------------------------------------------
OBJECTIVE = "objective"
DIRECTION = "direction"
OBJECTIVE_FOLDS = "objective_folds"
OBJECTIVE_REPLICATES = "objective_replicates"
STRATEGY = "strategy"
PARAMETERS = "parameters"  # the UI's columns, in the space's order
EXPERIMENT = "experiment"
DATA_FILE = "data_file"
DATA_SHA256 = "data_sha256"
BEST_RUN_ID = "best_run_id"
BEST_TRIAL_INDEX = "best_trial_index"
BASELINES_LOGGED = "baselines_logged"
RESUMED_WITH_CHANGES = "resumed_with_changes"
STAGES_ONLY = "stages_only"
# the test split: which run was scored, why, and how many times this campaign scored it
TEST_SCORED_RUN_ID = "test_scored_run_id"
TEST_SCORED_TRIAL = "test_scored_trial"
TEST_SCORINGS = "test_scorings"
REFIT_RUN_ID = "refit_run_id"  # the final model's run (trained on train + validation)
SEARCH_TRIALS = "search_trials"  # the trials the search ran: the budget less intensify's share

# ---- a trial's run -------------------------------------------------------------------------
AX_TRIAL_INDEX = "ax_trial_index"
ARM_NAME = "arm_name"
GENERATION = "generation"
AX_STATUS = "ax_status"  # set where MLflow's status cannot say it (EARLY_STOPPED)
EARLY_STOPPED = "early_stopped"  # who stopped it: "ax"
RECOVERED_FROM_AX = "recovered_from_ax"  # value from Ax after a crash: no figures, no model
UNITS = "units"  # "seed 2016, seed 2017" / "fold 1, ..."
EXECUTOR = "executor"
RACED = "raced"  # "after unit k of N": stopped by racing, told to Ax with the units it has
INTENSIFIED = "intensified"  # units after intensification: its value is their mean
MODEL_ROLE = "model_role"  # tuned_split (the winner's own model) | refit (the final model)
# why a run's test metrics exist: winner (the campaign's chosen model, once), stage (a stage's
# own test split), explicit (reproduce --score-test on a trial that is not the winner)
TEST_SCORED = "test_scored"

# ---- other sources -------------------------------------------------------------------------
REPRODUCES = "reproduces"
STAGE = "stage"
STAGE_INDEX = "stage_index"
SUPERSEDED = "superseded"
PARENT_MODEL_RUN_ID = "parent_model_run_id"
REFITS = "refits"  # on a refit run: the winner's run id

# the values of SOURCE
FROM_CAMPAIGN, FROM_PAPER, FROM_REPRODUCE, FROM_STAGE = "campaign", "paper", "reproduce", "stage"
FROM_REFIT = "refit"


@dataclass(frozen=True)
class CampaignTags:
    """A campaign parent run's tags, typed."""

    name: str
    objective: str
    direction: str
    folds: int
    replicates: int
    parameters: list[str]
    best_run_id: str | None
    test_scored_run_id: str | None
    test_scorings: int

    @property
    def units(self) -> int:
        return self.folds * self.replicates

    @classmethod
    def of(cls, tags: dict[str, str]) -> "CampaignTags":
        return cls(tags.get(CAMPAIGN, ""), tags.get(OBJECTIVE, ""),
                   tags.get(DIRECTION, "maximize"), int(tags.get(OBJECTIVE_FOLDS, 1)),
                   int(tags.get(OBJECTIVE_REPLICATES, 1)),
                   [p for p in tags.get(PARAMETERS, "").split(",") if p],
                   tags.get(BEST_RUN_ID), tags.get(TEST_SCORED_RUN_ID),
                   int(tags.get(TEST_SCORINGS, 1 if tags.get(TEST_SCORED_RUN_ID) else 0)))


@dataclass(frozen=True)
class TrialTags:
    """A child run's tags, typed."""

    source: str
    trial_index: int | None
    ax_status: str | None
    recovered: bool
    test_scored: str | None
    units: list[str]

    @property
    def campaign_trial(self) -> bool:
        return self.source == FROM_CAMPAIGN and self.trial_index is not None

    @property
    def early_stopped(self) -> bool:
        return self.ax_status == "EARLY_STOPPED"

    @classmethod
    def of(cls, tags: dict[str, str]) -> "TrialTags":
        index = tags.get(AX_TRIAL_INDEX)
        return cls(tags.get(SOURCE, FROM_CAMPAIGN), int(index) if index not in (None, "")
                   else None, tags.get(AX_STATUS), bool(tags.get(RECOVERED_FROM_AX)),
                   tags.get(TEST_SCORED), [u for u in tags.get(UNITS, "").split(", ") if u])


def trial_tags(row: dict[str, Any]) -> TrialTags:
    """The typed tags of a trial row (`Tracker.trial_rows`)."""
    return TrialTags.of(row["tags"])

# ---- experiments (MLflow's own tags, read by its UI) ----------------------------------------
EXPERIMENT_KIND = "mlflow.experimentKind"
MODEL_TRAINING = "custom_model_development"  # the UI's "Model training" side, not GenAI
SHARED_VIEW_PREFIX = "mlflow.sharedViewState."  # a saved runs view, keyed by its id
