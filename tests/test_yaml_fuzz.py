"""Fuzzing (hypothesis) of the loaders a user feeds: CSV files, YAML files and dicts, `--param`
values. Whatever comes in, the only exception that escapes is InputError (one line)."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, experiment_dict
from sentiment_core.config import (
    ExperimentConfig,
    SearchSpace,
    coerce_param,
    parse_experiment,
    parse_search_space,
)
from sentiment_core.data import Dataset, load_labeled, read_csv, read_user_csv
from sentiment_core.errors import InputError
from sentiment_core.experiments import experiment_from_dict, load_experiment
from sentiment_core.strict_yaml import read_yaml

# 30 examples per test in the fast tier; make test-full runs 300; SENTIMENT_HPO_FUZZ_EXAMPLES=2000
# digs deeper.
FUZZ = settings(max_examples=int(os.environ.get("SENTIMENT_HPO_FUZZ_EXAMPLES", "30")),
                deadline=None, database=None,  # no .hypothesis/ folder in the checkout
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
WORKDIR = Path(tempfile.mkdtemp(prefix="sentiment-hpo-fuzz-"))
SPACE = yaml.safe_load((ROOT / "tests" / "tiny_space.yaml").read_text())
DATASET = Dataset("fuzz", "f.csv", "", "text", "sentiment", {"Positive": "positive",
                                                              "Negative": "negative"},
                  "candidate")


def only_input_error(call, *args):
    """Run `call`; an InputError must be one line; any other exception fails the test."""
    try:
        return call(*args)
    except InputError as err:
        assert "\n" not in err.line()
        return None


def write(name: str, data: bytes) -> Path:
    path = WORKDIR / name
    path.write_bytes(data)
    return path


# ---- CSV ----------------------------------------------------------------------------------

def tokens(pieces: list[str], max_size: int):
    """Strings made of the given pieces (characters or words)."""
    return st.lists(st.sampled_from(pieces), max_size=max_size).map("".join)


cells = tokens(list('ab ,;"\n\r\t\\\'#é€😀\x00') + ["Positive", "Negative"], 12)
header = st.lists(st.sampled_from(["text", "sentiment", "candidate", "", "text", "x"]),
                  min_size=0, max_size=5)


@st.composite
def csv_files(draw) -> bytes:
    """Bytes that are mostly CSV: a header, ragged rows of odd cells, an encoding, a BOM."""
    columns = draw(header)
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=5), max_size=8))
    out = io.StringIO()
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_NONE, csv.QUOTE_ALL]))
    writer = csv.writer(out, delimiter=draw(st.sampled_from([",", ";", "\t"])), quoting=quoting,
                        escapechar="\\")
    try:
        if columns:
            writer.writerow(columns)
        writer.writerows(rows)
    except csv.Error:
        pass
    text = out.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut]  # truncated mid-character or mid-quote
    return data


@FUZZ
@given(data=st.one_of(csv_files(), st.binary(max_size=300)),
       max_rows=st.one_of(st.none(), st.integers(1, 5)))
def test_read_csv_raises_only_input_error(data, max_rows):
    frame = only_input_error(read_csv, write("f.csv", data), DATASET, max_rows)
    if frame is not None:
        assert {"text", "sentiment", "candidate"} <= set(frame.columns) and len(frame) > 0


@FUZZ
@given(data=csv_files(), label_map=st.lists(st.text(max_size=15), max_size=3),
       with_labels=st.booleans())
def test_read_user_csv_raises_only_input_error(data, label_map, with_labels):
    only_input_error(read_user_csv, write("u.csv", data), "text",
                     "sentiment" if with_labels else None, None, tuple(label_map),
                     ["negative", "positive"])


@FUZZ
@given(data=csv_files())
def test_labeling_a_fuzzed_file_raises_only_input_error(data):
    csv_path = write("l.csv", data)
    experiment = experiment_from_dict(experiment_dict(csv_path), "fuzz.yaml")
    only_input_error(load_labeled, experiment, WORKDIR)


# ---- YAML ---------------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
                    st.sampled_from(["lstm", "csv", "human", "binary", "maximize", "val_loss",
                                     "float", "int", "choice", "bayesian", "gop-debate"]))
KEYS = ["name", "data", "dataset", "path", "search_space", "split", "validation", "test",
        "labels", "mode", "classes", "model", "family", "objective", "metric", "direction",
        "budget", "trials", "seed", "bounds", "type", "values", "log_scale", "default",
        "parameters", "fixed", "vectorization", "max_tokens", "label_mapping", "cleaning",
        "learning_rate", "x"]
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=5)), inner,
                    max_size=5)), max_leaves=20)


@st.composite
def experiment_dicts(draw) -> dict:
    """A valid experiment with a few of its fields replaced by fuzz."""
    raw = experiment_dict(WORKDIR / "f.csv")
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from([("name",), ("seed",), ("split",), ("split", "test"),
                                     ("data", "dataset"), ("data", "label_mapping"),
                                     ("labels",), ("model", "family"), ("objective",),
                                     ("vectorization", "max_tokens"), ("budget", "trials"),
                                     ("cleaning",), ("election",), ("extra",)]))
        target = raw
        for key in path[:-1]:
            target = target.setdefault(key, {}) if isinstance(target, dict) else {}
        if isinstance(target, dict):
            target[path[-1]] = draw(values)
    return raw


@st.composite
def space_dicts(draw) -> dict:
    raw = {"parameters": {k: dict(v) for k, v in SPACE["parameters"].items()},
           "fixed": dict(SPACE["fixed"])}
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from([*raw["parameters"], "new"]))
        spec = raw["parameters"].setdefault(name, {})
        if isinstance(spec, dict):
            spec[draw(st.sampled_from(["type", "bounds", "values", "log_scale", "default",
                                       "step"]))] = draw(values)
    if draw(st.booleans()):
        raw["fixed"][draw(st.sampled_from(["num_epochs", "lstm_units", "z"]))] = draw(scalars)
    if draw(st.booleans()):
        raw = draw(values)
    return raw


@FUZZ
@given(raw=st.one_of(experiment_dicts(), values))
def test_parse_experiment_raises_only_input_error(raw):
    if only_input_error(parse_experiment, raw, "fuzz.yaml") is not None:
        assert isinstance(parse_experiment(raw, "fuzz.yaml"), ExperimentConfig)
    only_input_error(experiment_from_dict, raw, "fuzz.yaml", SPACE)


@FUZZ
@given(raw=space_dicts())
def test_parse_search_space_raises_only_input_error(raw):
    space = only_input_error(parse_search_space, raw, "space.yaml")
    if space is not None:
        assert isinstance(space, SearchSpace)
        space.defaults()  # what `train` uses: must not raise either


yaml_text = st.one_of(
    st.text(max_size=200),
    tokens(list("ab:- \n[]{}&*!|>'\"#%@`,?") + ["!!python/object", "<<", "2020-13-45",
                                               "seed: 1\n", "&a ", "*a"], 60),
    experiment_dicts().map(lambda d: yaml.safe_dump(d, allow_unicode=True)),
)


@FUZZ
@given(text=yaml_text, space=st.one_of(st.none(), space_dicts()))
def test_load_experiment_from_raw_text_raises_only_input_error(text, space):
    path = write("exp.yaml", text.encode("utf-8", errors="replace"))
    only_input_error(read_yaml, path)
    if space is not None:
        space_path = write("space.yaml", yaml.safe_dump(space).encode())
        base = experiment_dict(WORKDIR / "f.csv", search_space=str(space_path))
        path.write_text(yaml.safe_dump(base) + text)
    only_input_error(load_experiment, path)


def test_deep_nesting_is_an_input_error():
    path = write("deep.yaml", b"a: " + b"[" * 5000 + b"]" * 5000)
    only_input_error(read_yaml, path)


# ---- --param ------------------------------------------------------------------------------

@FUZZ
@given(name=st.one_of(st.sampled_from([*SPACE["parameters"], *SPACE["fixed"]]),
                      st.text(max_size=10)),
       text=st.one_of(st.text(max_size=30),
                      st.sampled_from(["nan", "inf", "-inf", "1e999", "8", "4.0", "[", "{a: 1}",
                                       "true", "null", "", "1_000", " 8 ", "0x10", "9" * 5000])))
def test_coerce_param_raises_only_input_error(name, text):
    space = parse_search_space(SPACE, "space.yaml")
    value = only_input_error(coerce_param, space, name, text)
    if value is not None and name in space.parameters:
        spec = space.parameters[name]
        if spec.type == "choice":
            assert value in spec.values
        else:
            assert isinstance(value, int if spec.type == "int" else float)
