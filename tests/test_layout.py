"""The architecture, checked from the source: every import between parts points down, other
parts are reached through a subpackage's own names, and Ax and MLflow each have one importer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sentiment_core"
# A part imports only parts of lower layers (and its own modules).
LAYERS = {"errors": 0, "tags": 0, "strict_yaml": 1, "executor_registry": 1, "run_config": 2,
          "config": 2.5,
          "data": 3, "models": 4, "evaluation": 5, "training": 5.5, "trial": 6, "experiments": 6,
          "campaign": 7, "cli": 8}
# Inside campaign/, the same rule between its parts.
CAMPAIGN_LAYERS = {"store": 0, "execution": 1, "serving": 1, "engine": 2, "review": 3}
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))
MAX_LINES = 450


def module_name(path: Path) -> list[str]:
    parts = ["sentiment_core", *path.relative_to(PACKAGE).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def part_of(path: Path) -> str:
    name = module_name(path)
    return name[1] if len(name) > 1 else "package"


def internal_imports(path: Path) -> list[tuple[list[str], str]]:
    """(the imported module as dotted parts, the import as written) for every relative import
    of `path`."""
    tree = ast.parse(path.read_text())
    package = module_name(path)
    if path.name != "__init__.py":
        package = package[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            written = f"{'.' * node.level}{node.module or ''}"
            if node.module:
                out.append((base + node.module.split("."), written))
            else:
                out += [(base + [alias.name], written) for alias in node.names]
    return out


def third_party(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
             for a in n.names}
    return names | {(n.module or "").split(".")[0] for n in ast.walk(tree)
                    if isinstance(n, ast.ImportFrom) and not n.level}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_through_package_names(path):
    me = module_name(path)
    part = part_of(path)
    if part == "package":
        return
    for target, written in internal_imports(path):
        other = target[1]
        if other != part:
            assert LAYERS[other] < LAYERS[part], \
                f"{path.name}: `from {written}` points up or sideways ({part} -> {other})"
            # another part's package names, or a leaf module like `tags`
            assert len(target) == 2 or (len(target) == 3 and target[2] in dir_names(other)), \
                f"{path.name}: `from {written}` reaches inside another part; use its names"
        elif part == "campaign" and len(me) > 2 and len(target) > 2 and me[2] != target[2]:
            mine, theirs = CAMPAIGN_LAYERS[me[2]], CAMPAIGN_LAYERS[target[2]]
            assert theirs < mine, \
                f"{path.name}: `from {written}` points up or sideways inside campaign " \
                f"({me[2]} -> {target[2]})"


def dir_names(part: str) -> set[str]:
    """What `from ..part import name` may name: the part's exported names."""
    init = PACKAGE / part / "__init__.py"
    return set(dir(__import__(f"sentiment_core.{part}", fromlist=["*"]))) if init.exists() \
        else set()


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES, \
        f"{path.relative_to(PACKAGE)}: split it into parts a reader can name"


# The one exception: campaign/serving/ui_app.py is the MLflow app plugin (`mlflow server
# --app-name sentiment-hpo`). It runs inside MLflow's server process, which imports it through
# the `mlflow.app` entry point to add a page to MLflow's own Flask app: it extends MLflow
# rather than using it, so it cannot speak REST like ui.py. Checked below: MLflow is imported
# only inside its create_app, and this package uses nothing else of it.
PLUGIN = "campaign/serving/ui_app.py"


def test_each_library_has_one_importer():
    importers = {lib: sorted(str(p.relative_to(PACKAGE)) for p in MODULES
                             if lib in third_party(p)) for lib in ("ax", "mlflow", "ray")}
    assert importers == {"ax": ["campaign/store/search.py"],
                         "mlflow": [PLUGIN, "campaign/store/tracking.py"],
                         "ray": ["campaign/execution/ray.py"]}


def test_the_mlflow_plugin_is_only_mlflows():
    tree = ast.parse((PACKAGE / PLUGIN).read_text())
    top_level = {a.name.split(".")[0] for n in tree.body if isinstance(n, ast.Import)
                 for a in n.names} | {(n.module or "").split(".")[0] for n in tree.body
                                      if isinstance(n, ast.ImportFrom)}
    assert "mlflow" not in top_level and "flask" not in top_level  # importing it is free
    used = set()
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("ui_app"):
                used |= {a.name for a in node.names}
    assert used and "create_app" not in used, used  # its constants only
    pyproject = (PACKAGE.parent / "pyproject.toml").read_text()
    assert 'sentiment-hpo = "sentiment_core.campaign.serving.ui_app:create_app"' in pyproject


@pytest.mark.parametrize("name", ["worker.py", "protocol.py", "inline.py", "local.py"])
def test_what_runs_in_workers_imports_no_writer(name):
    """Only the driver talks to Ax and MLflow; worker processes run trials and return results."""
    path = PACKAGE / "campaign" / "execution" / name
    assert not third_party(path) & {"ax", "mlflow", "ray", "click"}
    assert all(t[2] == "execution" for t, _ in internal_imports(path) if t[1] == "campaign")


@pytest.mark.parametrize("part", ["data", "models", "evaluation", "training.py", "trial.py",
                                  "config.py"])
def test_core_knows_no_optimizer_tracker_or_cli(part):
    paths = [PACKAGE / part] if part.endswith(".py") else sorted((PACKAGE / part).rglob("*.py"))
    for path in paths:
        assert not third_party(path) & {"ax", "mlflow", "click"}, path.name
        assert all(t[1] not in ("campaign", "cli") for t, _ in internal_imports(path)), path.name
