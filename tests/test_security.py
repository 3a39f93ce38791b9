"""Security: YAML is loaded safely only (no Python objects, ever), Keras models load in safe
mode, and `make audit` runs pip-audit. (The UI's 127.0.0.1 binding: test_ui_page.py.)"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import yaml

from sentiment_core.errors import InputError
from sentiment_core.experiments import load_experiment
from sentiment_core.strict_yaml import UniqueKeyLoader, read_yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sentiment_core"


@pytest.mark.parametrize("payload", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "name: !!python/object/apply:subprocess.check_call [['touch', '{marker}']]",
    "name: !!python/name:os.system",
    "name: !!python/object/new:pathlib.Path ['{marker}']",
])
def test_yaml_never_builds_python_objects(tmp_path, payload):
    marker = tmp_path / "PWNED"
    path = tmp_path / "exp.yaml"
    path.write_text(payload.format(marker=marker))
    with pytest.raises(InputError) as err:
        read_yaml(path)
    assert "not valid YAML" in err.value.line()
    with pytest.raises(InputError):
        load_experiment(path)
    assert not marker.exists()


def test_the_yaml_loader_is_a_safe_loader():
    assert issubclass(UniqueKeyLoader, yaml.SafeLoader)


def test_no_unsafe_yaml_call_in_the_package():
    """Every yaml.load names UniqueKeyLoader; no unsafe_load/full_load/Loader/UnsafeLoader."""
    unsafe = {"unsafe_load", "full_load", "load_all", "unsafe_load_all", "full_load_all",
              "Loader", "FullLoader", "UnsafeLoader", "UnsafeConstructor"}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "yaml":
                assert node.attr not in unsafe, f"{path.name}: yaml.{node.attr}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "load" and getattr(node.func.value, "id", "") == "yaml":
                loader = {k.arg: k.value for k in node.keywords}.get("Loader")
                assert isinstance(loader, ast.Name) and loader.id == "UniqueKeyLoader", path


def test_keras_models_load_in_safe_mode(tmp_path):
    """A model file with a Lambda layer (arbitrary Python in the file) is refused, not run."""
    import keras

    from sentiment_core.evaluation import TextClassifier

    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2),
                              keras.layers.Dense(1)])
    folder = tmp_path / "classifier"
    folder.mkdir()
    model.save(folder / "model.keras")
    (folder / "text.json").write_text(json.dumps({
        "vocabulary": ["", "[UNK]", "a"], "cleaning": [], "sequence_length": 3,
        "class_names": ["negative", "positive"]}))
    with pytest.raises(ValueError, match="safe_mode"):
        TextClassifier.load(folder)
    source = (PACKAGE / "evaluation" / "predictor.py").read_text()
    assert "safe_mode=True" in source


def test_make_audit_runs_pip_audit():
    makefile = (ROOT / "Makefile").read_text()
    audit = makefile.split("\naudit:", 1)[1].split("\n\n", 1)[0]
    assert "pip_audit" in audit and "--skip-editable" in audit
