"""`election`, `evaluate` and `predict` on the finished campaign."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from sentiment_core.cli import cli


def test_cli_election_evaluate_and_predict(finished_copy, tmp_path):
    _, store, _ = finished_copy  # election and evaluate log to the store: this test's own copy
    base = ["--store", str(store.path), "--data-dir", str(store.data_dir)]
    runner = CliRunner()
    result = runner.invoke(cli, [*base, "election", "tiny-4"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Alice" in result.output and "label_ratio" in result.output

    labeled = tmp_path / "other.csv"
    pd.DataFrame({"tweet": ["love this great win", "hate the worst liar", "best honest answer",
                            "bad weak policy"], "y": ["pos", "neg", "pos", "neg"]}).to_csv(
        labeled, index=False)
    result = runner.invoke(cli, [*base, "evaluate", "tiny-4", "--data", str(labeled),
                                 "--text-col", "tweet", "--label-col", "y", "--label-map",
                                 "pos=positive,neg=negative"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "macro_f1" in result.output and "evaluates" in result.output
    runs = store.tracker().children(store.tracker().find_campaign("tiny-4").info.run_id)
    evaluations = [r for r in runs if r.data.tags.get("source") == "evaluate"]
    assert len(evaluations) == 1 and "eval_accuracy" in evaluations[0].data.metrics

    result = runner.invoke(cli, [*base, "evaluate", "tiny-4", "--data", str(labeled),
                                 "--text-col", "tweet", "--label-col", "y"])
    assert result.exit_code == 2 and "--label-map" in result.output

    result = runner.invoke(cli, [*base, "election", "tiny-4", "--data", str(labeled),
                                 "--text-col", "tweet"])
    assert result.exit_code == 2 and "election.keywords" in result.output  # no candidates

    result = runner.invoke(cli, [*base, "predict", "tiny-4", "what a great win",
                                 "hate it"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "p_positive" in result.output and result.output.count("\n") == 3
