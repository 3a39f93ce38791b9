"""Where a campaign's state lives: the store folder (MLflow sqlite, Ax database, artifacts, the
prepared-data cache), the raw data folder, and optionally an MLflow server instead."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Store:
    path: Path  # default mlruns/
    data_dir: Path
    tracking_uri: str | None = None  # an MLflow server or database replacing path/mlflow.db

    @property
    def ax_db(self) -> Path:
        return self.path / "ax.db"

    @property
    def cache_dir(self) -> Path:
        return self.path / "cache"

    def tracker(self):
        from .tracking import Tracker  # imports MLflow: only commands that track pay for it

        return Tracker.open(self.path, self.tracking_uri)
