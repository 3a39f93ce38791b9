"""Where a campaign's state lives: the store folder (MLflow sqlite, Ax database, artifacts, the
prepared-data cache), the raw data folder, optionally an MLflow server instead of the sqlite
runs, and optionally a database server (Postgres) for Ax instead of the folder's ax.db."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Store:
    path: Path  # default mlruns/
    data_dir: Path
    tracking_uri: str | None = None  # an MLflow server or database replacing path/mlflow.db
    ax_url: str | None = None  # e.g. postgresql+psycopg://user@db/ax, replacing path/ax.db

    @property
    def ax_db(self) -> Path:
        return self.path / "ax.db"

    @property
    def ax_location(self) -> Path | str:
        """Where Ax keeps campaigns: the folder's sqlite file, or a database URL that drivers
        on several machines share (one driver at a time per campaign)."""
        return self.ax_url or self.ax_db

    @property
    def cache_dir(self) -> Path:
        return self.path / "cache"

    @property
    def sqlite_uri(self) -> str:
        return sqlite_uri(self.path)

    def tracker(self):
        from .tracking import Tracker  # imports MLflow: only commands that track pay for it

        return Tracker.open(self.path, self.tracking_uri)


def sqlite_uri(store: Path) -> str:
    """The embedded MLflow database of a store folder."""
    return sqlite_file_uri(store / "mlflow.db")


def sqlite_file_uri(path: Path) -> str:
    """A sqlite file as a database URL (the one builder: MLflow's and Ax's databases)."""
    return f"sqlite:///{Path(path).resolve()}"
