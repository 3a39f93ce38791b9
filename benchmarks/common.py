"""What every benchmark writes beside its figures: the machine and versions, and one section of
benchmarks/RESULTS.md replaced in place."""

from __future__ import annotations

import os
import platform
import re
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine_line() -> str:
    packages = ", ".join(f"{p} {_version(p)}" for p in ("tensorflow-cpu", "tensorflow", "keras",
                                                        "ax-platform", "mlflow")
                         if _version(p))
    return (f"{time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} when written), "
            f"Python {platform.python_version()}, {packages}")


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:  # a GPU machine has tensorflow, not tensorflow-cpu
        return None


def write_section(title: str, body: str) -> None:
    """Replace (or append) the `## title` section of RESULTS.md."""
    text = RESULTS.read_text() if RESULTS.exists() else (
        "# Benchmarks\n\nRatios measured side by side in one run on a shared, noisy machine; "
        "each section names the command that produced it.\n")
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) \
        else text.rstrip() + "\n\n" + section
    RESULTS.write_text(text)
