"""Checks on the real GOP debate file, when the data directory has it."""

import pytest

from sentiment_core.data import REGISTRY, data_dir, load_labeled, prepare
from sentiment_core.experiments import load_experiment

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


def test_gop_split_files_hold_at_most_half_a_percent_near_copies(tmp_path):
    """Issue 17's bar, read from the files `data split` writes: before near-duplicate groups,
    122 of 1,489 test rows (8.2%) were near-copies of a training row."""
    from click.testing import CliRunner

    from sentiment_core.cli import cli
    from sentiment_core.data import split_files_leakage

    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir()), "--store",
                                      str(tmp_path / "store"), "data", "split",
                                      "gop_debate_lstm", "--out", str(tmp_path / "split")])
    assert result.exit_code == 0, result.output
    leakage = split_files_leakage(tmp_path / "split")
    assert leakage["test"]["rate"] <= 0.005 and leakage["val"]["rate"] <= 0.005, leakage
