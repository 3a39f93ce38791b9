"""The root group: bad input ends as one line and exit code 2, never a traceback."""

from click.testing import CliRunner

from sentiment_core.cli import cli


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_bad_input_is_one_line_and_exit_2(write_experiment, tmp_path):
    result = run("--store", str(tmp_path / "store"), "train",
                 str(write_experiment(split={"validation": -1})))
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "split.validation" in result.output
    result = run("--store", str(tmp_path / "store"), "train", str(write_experiment()),
                 "--param", "neurons_dense=many")
    assert result.exit_code == 2 and "neurons_dense" in result.output
    assert not (tmp_path / "store").exists()
