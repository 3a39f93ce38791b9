"""The architecture, checked from the source: every import between parts points down, other
parts are reached through a subpackage's own names, and Ax and MLflow each have one importer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sentiment_core"
# A part imports only parts of lower layers (and its own modules).
LAYERS = {"errors": 0, "strict_yaml": 1, "config": 2, "data": 3, "models": 4, "evaluation": 5,
          "trial": 6, "experiments": 6, "campaign": 7, "cli": 8}
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def part_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py") if len(relative.parts) > 1 or \
        relative.name != "__init__.py" else "package"


def internal_imports(path: Path) -> list[tuple[str, str]]:
    """(target part, the import as written) for every relative import of `path`."""
    tree = ast.parse(path.read_text())
    depth = len(path.relative_to(PACKAGE).parts) - 1  # 0: top-level module, 1: in a subpackage
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            if node.level == 1 and depth == 1:  # a sibling inside the same subpackage
                continue
            target = (node.module or "").split(".")[0] or node.names[0].name
            out.append((target, f"{'.' * node.level}{node.module or ''}"))
    return out


def third_party(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
             for a in n.names}
    return names | {(n.module or "").split(".")[0] for n in ast.walk(tree)
                    if isinstance(n, ast.ImportFrom) and not n.level}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_through_package_names(path):
    part = part_of(path)
    if part == "package":
        return
    for target, written in internal_imports(path):
        assert target == part or LAYERS[target] < LAYERS[part], \
            f"{path.name}: `from {written}` points up or sideways ({part} -> {target})"
        assert "." not in written.lstrip("."), \
            f"{path.name}: `from {written}` reaches inside another part; use its package names"


def test_each_library_has_one_importer():
    importers = {lib: sorted(str(p.relative_to(PACKAGE)) for p in MODULES
                             if lib in third_party(p)) for lib in ("ax", "mlflow", "ray")}
    assert importers == {"ax": ["campaign/search.py"], "mlflow": ["campaign/tracking.py"],
                         "ray": ["campaign/ray_executor.py"]}


@pytest.mark.parametrize("name", ["worker.py", "executors.py"])
def test_what_runs_in_workers_imports_no_writer(name):
    """Only the driver talks to Ax and MLflow; worker processes run trials and return results."""
    assert not third_party(PACKAGE / "campaign" / name) & {"ax", "mlflow", "ray", "click"}


@pytest.mark.parametrize("part", ["data", "models", "evaluation", "trial.py", "config.py"])
def test_core_knows_no_optimizer_tracker_or_cli(part):
    paths = [PACKAGE / part] if part.endswith(".py") else sorted((PACKAGE / part).rglob("*.py"))
    for path in paths:
        assert not third_party(path) & {"ax", "mlflow", "click"}, path.name
        assert all(t not in ("campaign", "cli") for t, _ in internal_imports(path)), path.name
