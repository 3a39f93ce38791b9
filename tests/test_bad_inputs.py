"""The bad-input matrix: every bad file, YAML field, option or name a user can hand the CLI ends
as one line naming the file and the field, exit code 2, no traceback, and nothing left behind
(no MLflow run, no Ax trial; a campaign that was there is unchanged)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import ROOT, experiment_dict, make_tweets
from sentiment_core.cli import cli
from sentiment_core.data import load_labeled, prepare
from sentiment_core.errors import InputError
from sentiment_core.experiments import load_experiment

HEADER = "text,sentiment,candidate\n"


def rows_csv(rows: list[dict[str, str]]) -> bytes:
    import pandas as pd

    return pd.DataFrame(rows).to_csv(index=False).encode()


def good_csv() -> bytes:
    return rows_csv(make_tweets(120))


def with_labels(mapping) -> bytes:
    return rows_csv([{**r, "sentiment": mapping(i, r["sentiment"])}
                     for i, r in enumerate(make_tweets(120))])


# name -> (file bytes or None for no file, what the one line must mention besides the file)
BAD_DATA = {
    "missing file": (None, "missing"),
    "empty file": (b"", "empty file"),
    "blank lines only": (b"\n\n  \n", "empty file"),
    "header only": (HEADER.encode(), "no data rows"),
    "semicolon delimiter": (good_csv().replace(b",", b";"), "semicolons"),
    "tab delimiter": (good_csv().replace(b",", b"\t"), "tabs"),
    "latin-1": ((HEADER + "caf\xe9 great debate,Positive,Alice\n" * 40
                 + "bad worst,Negative,Bob\n" * 40).encode("latin-1"), "line 2"),
    "UTF-16 without BOM": (good_csv().decode().encode("utf-16-le"), "NUL bytes"),
    "unterminated quote": (HEADER.encode() + b'"great debate,Positive,Alice\n', "not a readable"),
    "more fields than header": (HEADER.encode() + b"a,b,c,d\n" * 30, "more fields"),
    "missing label column": (rows_csv([{"text": r["text"], "candidate": r["candidate"]}
                                       for r in make_tweets(60)]), "sentiment"),
    "missing group column": (rows_csv([{"text": r["text"], "sentiment": r["sentiment"]}
                                       for r in make_tweets(60)]), "candidate"),
    "every text blank": (rows_csv([{**r, "text": "  "} for r in make_tweets(60)]), "empty"),
    "labels outside the mapping": (with_labels(lambda i, s: "Mixed" if i % 7 == 0 else s),
                                   "Mixed"),
    "one class": (with_labels(lambda i, s: "Positive"), "only one class"),
    "fewer rows than the splits need": (rows_csv(
        [r for r in make_tweets(60) if r["sentiment"] == "Positive"][:3]
        + [r for r in make_tweets(60) if r["sentiment"] == "Negative"][:3]), "split"),
}
GOOD_DATA = {
    "UTF-8 BOM": (b"\xef\xbb\xbf" + good_csv(), 120),
    "UTF-16 with BOM": (good_csv().decode().encode("utf-16"), 120),
    "quotes and newlines inside fields": (
        HEADER.encode() + b'"she said ""great""\nbest, honest night",Positive,Alice\n'
        + good_csv().split(b"\n", 1)[1], 121),
    "some texts blank or NaN": (rows_csv([{**r, "text": "" if i % 9 == 0 else
                                           ("NaN" if i % 9 == 1 else r["text"])}
                                          for i, r in enumerate(make_tweets(120))]), 120),
    "an enormous text": (rows_csv([{**r, "text": r["text"] + " great" * 200_000 if i == 3
                                    else r["text"]} for i, r in enumerate(make_tweets(120))]),
                         120),
}


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def assert_one_line(result, *mentions: str) -> None:
    """Exit 2; the error is one line, the last (progress lines may come before it)."""
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.output
    assert "Traceback" not in result.output and not any(
        line.startswith("  File ") for line in lines), result.output
    for word in mentions:
        assert word in errors[0], (word, errors[0])
    assert result.exception is None or isinstance(result.exception, SystemExit)


def store_counts(store: Path) -> tuple[int, int]:
    """(MLflow runs, Ax trials) in a store; (0, 0) when it holds none."""
    runs = trials = 0
    if (store / "mlflow.db").exists():
        with sqlite3.connect(store / "mlflow.db") as db:
            runs = db.execute("select count(*) from runs").fetchone()[0]
    if (store / "ax.db").exists():
        with sqlite3.connect(store / "ax.db") as db:
            try:
                trials = db.execute("select count(*) from trial_v2").fetchone()[0]
            except sqlite3.OperationalError:
                trials = 0
    return runs, trials


def experiment_for(tmp_path: Path, content: bytes | None, **overrides) -> Path:
    csv = tmp_path / "data" / "tweets.csv"
    csv.parent.mkdir(exist_ok=True)
    if content is not None:
        csv.write_bytes(content)
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(experiment_dict(csv, **overrides)))
    return path


COMMANDS = {
    "data inspect": lambda exp, store: ["--store", str(store), "data", "inspect", str(exp)],
    "train": lambda exp, store: ["--store", str(store), "train", str(exp)],
    "campaign run": lambda exp, store: ["--store", str(store), "campaign", "run", str(exp),
                                        "--trials", "1", "--name", "bad"],
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", BAD_DATA)
def test_bad_data_file(tmp_path, case, command):
    content, mention = BAD_DATA[case]
    exp = experiment_for(tmp_path, content)
    store = tmp_path / "store"
    result = run(*COMMANDS[command](exp, store))
    if (case, command) == ("fewer rows than the splits need", "data inspect"):
        assert result.exit_code == 0, result.output  # inspecting needs no split
    else:
        assert_one_line(result, "tweets.csv", mention)
    assert store_counts(store) == (0, 0)


@pytest.mark.parametrize("case", GOOD_DATA)
def test_readable_data_file(tmp_path, case):
    content, rows = GOOD_DATA[case]
    exp = experiment_for(tmp_path, content)
    result = run("--store", str(tmp_path / "store"), "data", "inspect", str(exp))
    assert result.exit_code == 0, result.output
    assert f"rows read           {rows}" in result.output


def test_quoted_newline_and_enormous_text_survive_the_pipeline(tmp_path):
    exp = load_experiment(experiment_for(tmp_path, GOOD_DATA["an enormous text"][0]))
    labeled = load_labeled(exp, tmp_path)
    assert labeled.frame["text"].str.len().max() > 1_000_000
    data = prepare(exp, tmp_path, None)  # truncated to sequence_length, not refused
    assert data.x_train.shape[1] == 12
    exp = load_experiment(experiment_for(tmp_path, GOOD_DATA["quotes and newlines inside "
                                                              "fields"][0]))
    text = load_labeled(exp, tmp_path).frame["text"].iloc[0]
    assert text == 'she said "great"\nbest, honest night'


@pytest.mark.parametrize("case", BAD_DATA)
def test_loader_names_file_and_field(tmp_path, case):
    content, mention = BAD_DATA[case]
    exp = load_experiment(experiment_for(tmp_path, content))
    with pytest.raises(InputError) as err:
        prepare(exp, tmp_path, None)
    assert "tweets.csv" in err.value.line() and mention in err.value.line()


# ---- YAML: experiments and search spaces ---------------------------------------------------

SPACE = yaml.safe_load((ROOT / "tests" / "tiny_space.yaml").read_text())


def space_with(**changes) -> dict:
    space = {"parameters": dict(SPACE["parameters"]), "fixed": dict(SPACE["fixed"])}
    for name, spec in changes.items():
        if spec is None:
            space["parameters"].pop(name, None)
            space["fixed"].pop(name, None)
        else:
            space["parameters"][name] = spec
    return space


# name -> (experiment overrides, search space or None for tiny_space.yaml, raw text replacing
# the experiment file or None, file that must be named, field that must be named)
BAD_YAML = {
    "unknown key": ({"splitt": {"test": 0.2}}, None, None, "exp.yaml", "splitt"),
    "unknown nested key": ({"split": {"validation": 0.2, "tests": 0.2}}, None, None, "exp.yaml",
                           "split.tests"),
    "wrong type": ({"budget": {"trials": "many"}}, None, None, "exp.yaml", "budget.trials"),
    "bool for an int": ({"seed": True}, None, None, "exp.yaml", "seed"),
    "unknown model family": ({"model": {"family": "transformer"}}, None, None, "exp.yaml",
                             "model.family"),
    "unknown dataset": ({"data": {"dataset": "tweets2099"}}, None, None, "exp.yaml",
                        "data.dataset"),
    "unknown objective": ({"objective": {"metric": "val_vibes"}}, None, None, "exp.yaml",
                          "objective.metric"),
    "negative lean_after": ({"optimizer": {"lean_after": -1}}, None, None, "exp.yaml",
                           "optimizer.lean_after"),
    "reversed bounds": ({}, space_with(learning_rate={"type": "float", "bounds": [0.05, 0.001]}),
                        None, "space.yaml", "parameters.learning_rate.bounds"),
    "log scale with a zero bound": ({}, space_with(learning_rate={
        "type": "float", "bounds": [0.0, 0.05], "log_scale": True}), None, "space.yaml",
        "parameters.learning_rate.bounds"),
    "log scale with a negative bound": ({}, space_with(learning_rate={
        "type": "float", "bounds": [-1.0, 0.05], "log_scale": True}), None, "space.yaml",
        "parameters.learning_rate.bounds"),
    "infinite bound": ({}, space_with(neurons_dense={"type": "int", "bounds": [2, ".inf"]}), None,
                       "space.yaml", "parameters.neurons_dense.bounds"),
    "bound the model cannot take": ({}, space_with(dropout_rate={
        "type": "float", "bounds": [0.0, 7.0]}), None, "space.yaml", "parameters.dropout_rate"),
    "fixed value the model cannot take": ({}, {**space_with(), "fixed": {
        "num_epochs": 1, "batch_size": 0}}, None, "space.yaml", "fixed.batch_size"),
    "missing parameter the model needs": ({}, space_with(dropout_rate=None), None, "space.yaml",
                                          "parameters.dropout_rate"),
    "missing training parameter": ({}, space_with(batch_size=None), None, "space.yaml",
                                   "parameters.batch_size"),
    "missing search space file": ({"search_space": "nowhere.yaml"}, None, None, "exp.yaml",
                                  "search_space"),
    "duplicated key": ({}, None, "DUPLICATE", "exp.yaml", "seed"),
    "duplicated nested key": ({}, None, "DUPLICATE_NESTED", "exp.yaml", "split.test"),
    "not YAML": ({}, None, "name: [unclosed\n", "exp.yaml", "not valid YAML"),
    "not a mapping": ({}, None, "- a\n- list\n", "exp.yaml", "mapping"),
    "python object tag": ({}, None, "!!python/object/apply:os.system ['true']\n", "exp.yaml",
                          "not valid YAML"),
}


def write_yaml_case(tmp_path: Path, case: str) -> Path:
    overrides, space, raw, _, _ = BAD_YAML[case]
    csv = tmp_path / "tweets.csv"
    csv.write_bytes(good_csv())
    if space is not None:
        (tmp_path / "space.yaml").write_text(yaml.safe_dump(space).replace("'.inf'", ".inf"))
        overrides = {**overrides, "search_space": str(tmp_path / "space.yaml")}
    if "search_space" in overrides and not Path(overrides["search_space"]).is_absolute():
        overrides["search_space"] = str(tmp_path / overrides["search_space"])
    exp = tmp_path / "exp.yaml"
    text = yaml.safe_dump(experiment_dict(csv, **overrides), sort_keys=False)
    if raw == "DUPLICATE":
        text += "seed: 8\n"
    elif raw == "DUPLICATE_NESTED":
        text = text.replace("split:\n", "split:\n  test: 0.1\n")
    elif raw is not None:
        text = raw
    exp.write_text(text)
    return exp


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", BAD_YAML)
def test_bad_yaml(tmp_path, case, command):
    exp = write_yaml_case(tmp_path, case)
    store = tmp_path / "store"
    _, _, _, named_file, field = BAD_YAML[case]
    result = run(*COMMANDS[command](exp, store))
    assert_one_line(result, named_file, field)
    assert store_counts(store) == (0, 0)


@pytest.mark.parametrize("case", BAD_YAML)
def test_yaml_loader_names_file_and_field(tmp_path, case):
    exp = write_yaml_case(tmp_path, case)
    _, _, _, named_file, field = BAD_YAML[case]
    with pytest.raises(InputError) as err:
        load_experiment(exp)
    assert err.value.where.endswith(named_file) and field in err.value.line()
    assert "\n" not in err.value.line()


# ---- options, arguments and names ----------------------------------------------------------

@pytest.mark.parametrize("param, mention", [
    ("neurons_dense=many", "neurons_dense"), ("neurons_dense=4.5", "neurons_dense"),
    ("learning_rate=nan", "finite"), ("learning_rate=1e999", "finite"),
    ("embedding_size=5", "one of"), ("num_epochs=two", "num_epochs"),
    ("units=4", "unknown parameter"), ("neurons_dense", "NAME=VALUE"),
    ("batch_size=[", "batch_size"),
    # values of the right type that no model can take: the valid range, before any work
    ("dropout_rate=7", "dropout_rate: must be a number in [0, 1), got 7.0"),
    ("neurons_dense=0", "neurons_dense: must be an integer >= 1"),
    ("learning_rate=-0.1", "learning_rate: must be a number > 0"),
    ("class_weight=heavy", "class_weight: must be one of none, balanced"),
])
def test_bad_param(write_experiment, tmp_path, param, mention):
    result = run("--store", str(tmp_path / "store"), "train", str(write_experiment()),
                 "--param", param)
    assert_one_line(result, "--param", mention)
    assert not (tmp_path / "store").exists()


NO_CAMPAIGN = [
    ["report", "nope"], ["table", "nope"], ["campaign", "status", "nope"],
    ["reproduce", "nope"], ["election", "nope"], ["predict", "nope", "hello"],
    ["evaluate", "nope", "--data", "LABELED", "--text-col", "text", "--label-col", "sentiment"],
]


# session, not module: work stealing interleaves modules, and pytest tears a module fixture
# down whenever the next test comes from another module (three set-ups of one campaign)
@pytest.fixture(scope="session")
def store_without_campaigns(tmp_path_factory):
    """A store whose MLflow database exists (created once: ~5 s) and holds no campaign."""
    store = tmp_path_factory.mktemp("empty") / "store"
    assert run("--store", str(store), "campaign", "list").exit_code == 0
    (store.parent / "labeled.csv").write_bytes(good_csv())
    return store


@pytest.mark.parametrize("args", NO_CAMPAIGN, ids=lambda a: " ".join(a[:2]))
def test_campaign_that_does_not_exist(store_without_campaigns, args):
    store = store_without_campaigns
    args = [str(store.parent / "labeled.csv") if a == "LABELED" else a for a in args]
    result = run("--store", str(store), *args)
    assert_one_line(result, "nope")
    assert store_counts(store) == (0, 0)


def test_ui_of_a_campaign_that_does_not_exist(tmp_path):
    result = run("--store", str(tmp_path / "store"), "ui", "nope")  # no server is started
    assert_one_line(result, "nope")


def test_usage_errors_are_one_line(tmp_path):
    assert_one_line(run("--store", str(tmp_path), "report"), "NAME")
    assert_one_line(run("--store", str(tmp_path), "campaign", "run", "x", "--trials", "0"),
                    "--trials")
    assert_one_line(run("--store", str(tmp_path), "ui", "--port", "0"), "--port")


# ---- a user CSV against a finished campaign: the campaign is unchanged -------------------------

USER_CSV = {
    "missing file": (None, "does not exist"),
    "empty file": (b"", "empty file"),
    "header only": (b"tweet,y\n", "no data rows"),
    "semicolons": (b"tweet;y\ngreat;pos\nbad;neg\n", "semicolons"),
    "latin-1": ("tweet,y\ncaf\xe9 great,pos\nbad,neg\n".encode("latin-1"), "not UTF-8"),
    "UTF-16 without BOM": ("tweet,y\ngreat,pos\n".encode("utf-16-le"), "NUL bytes"),
    "missing column": (b"text,y\ngreat,pos\nbad,neg\n", "tweet"),
    "labels outside the mapping": (b"tweet,y\ngreat,pos\nbad,meh\n", "--label-map"),
    "one class": (b"tweet,y\ngreat,pos\nbest,pos\n", "fewer than two"),
}


@pytest.mark.parametrize("command", ["evaluate", "election", "predict"])
@pytest.mark.parametrize("case", USER_CSV)
def test_bad_user_csv_leaves_the_campaign_unchanged(finished, tmp_path, case, command):
    _, store, _ = finished
    content, mention = USER_CSV[case]
    csv = tmp_path / "user.csv"
    if content is not None:
        csv.write_bytes(content)
    base = ["--store", str(store.path), "--data-dir", str(store.data_dir)]
    args = {"evaluate": ["evaluate", "tiny-4", "--data", str(csv), "--text-col", "tweet",
                         "--label-col", "y", "--label-map", "pos=positive"],
            "election": ["election", "tiny-4", "--data", str(csv), "--text-col", "tweet",
                         "--label-col", "y", "--label-map", "pos=positive"],
            "predict": ["predict", "tiny-4", "--data", str(csv), "--text-col", "tweet"]}[command]
    if command == "predict" and case in ("labels outside the mapping", "one class"):
        pytest.skip("predict reads no labels")
    before = store_counts(store.path)
    result = run(*base, *args)
    assert_one_line(result, "user.csv", mention)
    assert store_counts(store.path) == before


def test_predict_refuses_texts_and_a_file_together(finished, tmp_path):
    _, store, _ = finished
    csv = tmp_path / "texts.csv"
    csv.write_text("text\ngreat\n")
    result = run("--store", str(store.path), "predict", "tiny-4", "what a win", "--data",
                 str(csv))
    assert_one_line(result, "TEXT", "not both")
