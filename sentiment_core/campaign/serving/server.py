"""`mlflow server` on a store: the one command builder, for the UI's lean local server and for
the tracking server that campaigns on other machines log to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from ..store.paths import sqlite_uri


def is_server(tracking_uri: str | None) -> bool:
    return bool(tracking_uri) and tracking_uri.startswith(("http://", "https://"))


def backend_uri(store: Path, tracking_uri: str | None = None) -> str:
    """What a server on this store serves: the database given (--tracking-uri or
    --backend-store-uri naming one), else the store's sqlite; an http(s) URI is a server
    already, never a backend."""
    if tracking_uri and not is_server(tracking_uri):
        return tracking_uri
    return sqlite_uri(store)


def server_command(store: Path, host: str, port: int, backend: str | None = None,
                   serve_artifacts: bool = False, workers: int = 1,
                   allowed_hosts: str | None = None) -> list[str]:
    """The UI's server (default: lean, one worker; with no job runner, see
    `server_environment`; the default server starts 15 processes, 2.6 GB), or with
    `serve_artifacts` the tracking server: artifacts proxied into <store>/artifacts, so
    clients need no shared filesystem, only the server's URL."""
    command = [sys.executable, "-m", "mlflow", "server",
               "--backend-store-uri", backend_uri(store, backend),
               "--host", host, "--port", str(port), "--workers", str(workers)]
    if serve_artifacts:
        artifacts = (store / "artifacts").resolve()
        artifacts.mkdir(parents=True, exist_ok=True)
        command += ["--serve-artifacts", "--artifacts-destination", artifacts.as_uri(),
                    "--default-artifact-root", "mlflow-artifacts:/"]
    if allowed_hosts:
        command += ["--allowed-hosts", allowed_hosts]
    return command + app_plugin_args()


def app_plugin_args() -> list[str]:
    """`--app-name sentiment-hpo` when this package's MLflow app plugin (ui_app: the landing
    page of `ui`'s links) is installed, i.e. its entry point is in the installed metadata
    (`pip install -e .` after pyproject.toml changed)."""
    from importlib.metadata import entry_points

    from .ui_app import APP_NAME

    found = [e for e in entry_points(group="mlflow.app") if e.name == APP_NAME]
    return ["--app-name", APP_NAME] if found else []


def server_environment() -> dict[str, str]:
    return {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


def start_server(store: Path, host: str, port: int, backend: str | None = None,
                 log: Path | None = None, **options) -> subprocess.Popen:
    """`server_command` as a process; its output (an access-log line per request) goes to
    `log` when given. Never on an http tracking URI: that one is served already."""
    if is_server(backend):
        raise ValueError("an http(s) tracking URI is a server already: open it, do not serve it")
    store.mkdir(parents=True, exist_ok=True)
    command = server_command(store, host, port, backend, **options)
    # a session of its own: `stop_server` ends the server and the workers it starts together
    if log is None:
        return subprocess.Popen(command, env=server_environment(), start_new_session=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(command, env=server_environment(), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def stop_server(process: subprocess.Popen, grace_s: float = 10.0) -> None:
    """SIGTERM to the server's whole process group (mlflow, uvicorn and its workers), then
    SIGKILL after `grace_s`: a stopped `ui` never waits on a lingering worker."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
