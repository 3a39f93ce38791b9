"""Checks on the real GOP debate file, when the data directory has it."""

import os
from pathlib import Path

import pytest

from sentiment_core.experiments import load_experiment
from sentiment_core.data import load_labeled, prepare
from sentiment_core.data import REGISTRY, data_dir

GOP = data_dir() / REGISTRY["gop-debate"].filename
pytestmark = pytest.mark.skipif(
    not GOP.exists(), reason=f"{GOP} not present (set SENTIMENT_HPO_DATA_DIR, or "
                             "`sentiment-hpo data fetch gop-debate`)")


def test_gop_counts_match_provenance():
    labeled = load_labeled(load_experiment("gop_debate_lstm"), data_dir())
    assert labeled.file_sha256 == REGISTRY["gop-debate"].sha256
    assert labeled.counts["rows_read"] == 13871 and labeled.counts["dropped_label"] == 3142
    assert (labeled.frame["label"] == 1).sum() == 2236


def test_gop_trial_with_the_seed_parameters_beats_chance(tmp_path):
    from sentiment_core.trial import run_trial

    exp = load_experiment("gop_debate_lstm")
    data = prepare(exp, data_dir(), tmp_path)
    # the paper's best Table 5 row: 2 epochs of batch 806
    result = run_trial(exp.space.defaults(), data, seed=0)
    assert result.metrics["val_roc_auc"] > 0.7, result.metrics
