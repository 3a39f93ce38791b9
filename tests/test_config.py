from pathlib import Path

import pytest
import yaml

from sentiment_core.config import to_dict
from sentiment_core.experiments import load_experiment, load_search_space
from sentiment_core.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.yaml")), ids=str)
def test_every_experiment_loads(path):
    exp = load_experiment(path)
    assert exp.space is not None and exp.space.parameters
    assert exp.objective.metric.startswith("val_")


def test_experiment_by_name_resolves_search_space():
    exp = load_experiment("gop_debate_lstm")
    assert exp.space.path.endswith("search_spaces/table5.yaml")
    assert set(exp.space.defaults()) == {"learning_rate", "dropout_rate", "lstm_units",
                                         "neurons_dense", "num_epochs", "batch_size",
                                         "embedding_size"}
    assert to_dict(exp)["split"]["test"] == 0.15


@pytest.mark.parametrize("override, field", [
    ({"splitt": {}}, "splitt"),
    ({"split": {"validation": "a lot"}}, "split.validation"),
    ({"split": {"validation": 0.6, "test": 0.35}}, "split"),
    ({"vectorization": {"max_tokens": 10.5}}, "vectorization.max_tokens"),
    ({"cleaning": ["lowercase", "shout"]}, "cleaning[1]"),
    ({"labels": {"mode": "guess"}}, "labels.mode"),
    ({"objective": {"metric": "val_vibes"}}, "objective.metric"),
    ({"seed": True}, "seed"),
])
def test_bad_experiment_names_file_and_field(write_experiment, override, field):
    path = write_experiment(**override)
    with pytest.raises(InputError) as err:
        load_experiment(path)
    assert err.value.where == str(path) and err.value.field == field
    assert "\n" not in err.value.line()


@pytest.mark.parametrize("spec, field", [
    ({"type": "float", "bounds": [0.5, 0.1]}, "parameters.x.bounds"),
    ({"type": "float", "bounds": [0.0, 1.0], "log_scale": True}, "parameters.x.bounds"),
    ({"type": "int", "bounds": [1.5, 4]}, "parameters.x.bounds"),
    ({"type": "choice", "values": []}, "parameters.x.values"),
    ({"type": "int", "bounds": [1, 4], "default": 9}, "parameters.x.default"),
    ({"type": "integer", "bounds": [1, 4]}, "parameters.x.type"),
    ({"type": "int", "bounds": [1, 4], "step": 2}, "parameters.x.step"),
])
def test_bad_search_space(tmp_path, spec, field):
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump({"parameters": {"x": spec}}))
    with pytest.raises(InputError) as err:
        load_search_space(path)
    assert err.value.field == field


def test_defaults_use_log_midpoint(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump({"parameters": {
        "lr": {"type": "float", "bounds": [1e-4, 1e-2], "log_scale": True},
        "units": {"type": "int", "bounds": [2, 9]}}, "fixed": {"epochs": 1}}))
    defaults = load_search_space(path).defaults()
    assert defaults["lr"] == pytest.approx(1e-3)
    assert defaults["units"] == 6 and defaults["epochs"] == 1
