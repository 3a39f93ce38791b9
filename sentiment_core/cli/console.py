"""A quiet console: TensorFlow's and Ax's start-up lines are kept off stderr unless --verbose.

TensorFlow 2.21 writes its C++ start-up lines (absl's "All log messages before
absl::InitializeLog()", oneDNN's "custom operations are on", the "E0000 ... util.cc ... DT_BOOL"
line of the first graph) straight to file descriptor 2; TF_CPP_MIN_LOG_LEVEL does not hide
them and turning oneDNN off costs ~35% speed. Ax logs "Ax SQL storage initialized" at import,
before any logging setting of ours can apply.

So the CLI installs an import hook (`quiet_imports`): the first `import tensorflow` / `import
keras` runs with fd 2 routed to a temporary file, then builds one tiny masked-LSTM graph (the
DT_BOOL line comes once per process, at the first such graph), and the first `import ax` is
routed the same way. fd 2 is restored right after; of what was captured, the known start-up
lines are dropped and everything else (Python warnings, errors, unknown C++ warnings) is written
to stderr. oneDNN stays on. Library code is unaffected: only the CLI installs the hook.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# Lines known to be start-up noise; anything else captured is shown.
NOISE = re.compile("|".join([
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to "
    r"STDERR\s*$",
    r"^I\d{4} \d\d:\d\d:[\d.]+\s+\d+ \S+:\d+\] ",  # C++ INFO (oneDNN on, cpu features)
    r"^E\d{4} \d\d:\d\d:[\d.]+\s+\d+ util\.cc:\d+\] oneDNN supports DT_BOOL only",
    r"^To enable the following instructions: .* rebuild TensorFlow",
    r"^\[INFO [\d\- :]+\] ax\.",  # Ax's INFO lines at import
]))
TENSORFLOW = ("tensorflow", "keras")
AX = ("ax",)


def filtered(text: str) -> str:
    """`text` without the known start-up lines."""
    return "".join(line for line in text.splitlines(keepends=True) if not NOISE.search(line))


@contextmanager
def routed_stderr() -> Iterator[None]:
    """Route file descriptor 2 to a temporary file; on exit restore it and write what was
    captured, less the known start-up lines, to stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            sink.seek(0)
            kept = filtered(sink.read().decode("utf-8", "replace"))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def first_graph() -> None:
    """Build and run one tiny masked LSTM: TensorFlow prints its first-graph lines here."""
    import keras
    import numpy as np

    model = keras.Sequential([keras.Input((2,), dtype="int32"),
                              keras.layers.Embedding(3, 2, mask_zero=True),
                              keras.layers.LSTM(1)])
    model.predict(np.ones((1, 2), dtype="int32"), verbose=0)
    keras.backend.clear_session()


class _RoutedLoader(importlib.abc.Loader):
    """Runs the real loader with fd 2 routed, then `after` (still routed)."""

    def __init__(self, loader, after: Callable[[], None] | None):
        self.loader, self.after = loader, after

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__loader__ = self.loader  # the module keeps its own loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        with routed_stderr():
            self.loader.exec_module(module)
            if self.after is not None:
                try:
                    self.after()
                except Exception:  # noqa: BLE001 - cosmetic: a failed warm-up changes nothing
                    pass


class QuietImports(importlib.abc.MetaPathFinder):
    """Routes fd 2 during the first import of each group of top-level packages."""

    def __init__(self, groups: dict[tuple[str, ...], Callable[[], None] | None]):
        self.groups = dict(groups)

    def find_spec(self, name, path, target=None):
        if path is not None:  # only top-level packages
            return None
        group = next((g for g in self.groups if name in g), None)
        if group is None:
            return None
        after = self.groups.pop(group)  # nested imports of the group run inside the routing
        if not self.groups:
            uninstall()
        spec = importlib.machinery.PathFinder.find_spec(name)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _RoutedLoader(spec.loader, after)
        return spec


def install() -> None:
    """Quiet TensorFlow's and Ax's first imports (idempotent)."""
    if not any(isinstance(f, QuietImports) for f in sys.meta_path):
        groups = {g: (first_graph if g == TENSORFLOW else None) for g in (TENSORFLOW, AX)
                  if not any(n in sys.modules for n in g)}
        if groups:
            sys.meta_path.insert(0, QuietImports(groups))


def uninstall() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, QuietImports)]
