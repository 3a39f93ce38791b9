"""`table`, `campaign list` and `campaign status` on the finished campaign (read only)."""

from click.testing import CliRunner

from sentiment_core.cli import cli


def test_table_marks_the_best_row(finished):
    _, store, _ = finished
    result = CliRunner().invoke(cli, ["--store", str(store.path), "table", "tiny-4",
                                      "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    header = lines[0].split(",")
    # best_epoch: early stopping may use fewer epochs than num_epochs. No "± sd" column: with
    # one run per trial there is no spread (table5 drops the column when no trial has one)
    assert header[:5] == ["best", "val_roc_auc", "best_epoch", "trial_index", "arm_name"], header
    assert {"learning_rate", "neurons_dense", "status", "generation", "wall_s"} <= set(header)
    assert len(lines) == 5 and sum(line.startswith("*") for line in lines) == 1


def test_list_and_status_commands(finished):
    _, store, _ = finished
    runner = CliRunner()
    listed = runner.invoke(cli, ["--store", str(store.path), "campaign", "list"])
    assert listed.exit_code == 0 and "tiny-4" in listed.output and "FINISHED" in listed.output
    status = runner.invoke(cli, ["--store", str(store.path), "campaign", "status", "tiny-4"])
    assert status.exit_code == 0, status.output
    assert "4 finished" in status.output and "best: trial" in status.output
    missing = runner.invoke(cli, ["--store", str(store.path), "campaign", "status", "nope"])
    assert missing.exit_code == 2 and "no campaign named 'nope'" in missing.output
