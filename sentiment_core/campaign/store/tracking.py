"""The MLflow adapter: the only module that imports MLflow.

    tracker = Tracker.open(store=Path("mlruns"))              # sqlite in mlruns/mlflow.db
    parent = tracker.start_campaign("gop_debate_lstm", "c1", tags, params, texts)
    run = tracker.start_trial(parent, "trial-3", params, tags)
    tracker.log_metrics(run, {"loss": 0.4}, step=1)
    tracker.log_files(run, texts={...}, figures={...}); tracker.end_run(run, "FINISHED")

One MLflow experiment per experiment YAML, one parent run per campaign, one nested child run per
trial. Every call names its run explicitly (MlflowClient), so no global "active run" leaks.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

import mlflow  # noqa: E402
from mlflow.entities import Metric, Param, RunTag  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

from ... import tags as T  # noqa: E402
from ...errors import InputError  # noqa: E402
from .paths import sqlite_uri  # noqa: E402

PACKAGE_DIR = Path(__file__).resolve().parents[2]  # sentiment_core/, bundled with each model
for _name in ("mlflow", "alembic"):
    logging.getLogger(_name).setLevel(logging.WARNING)  # table creation logs at INFO
# log_model warns that a Python object is pickled: we pickle only our own small wrapper.
logging.getLogger("mlflow.pyfunc").setLevel(logging.ERROR)


@dataclass
class Tracker:
    client: MlflowClient
    uri: str
    artifact_root: Path
    _experiment_of: dict[str, str] = field(default_factory=dict)  # parent run -> experiment

    @classmethod
    def open(cls, store: Path, tracking_uri: str | None = None) -> "Tracker":
        """`tracking_uri` (a server, or MLFLOW_TRACKING_URI) replaces the embedded sqlite store."""
        store.mkdir(parents=True, exist_ok=True)
        uri = tracking_uri or sqlite_uri(store)
        previous = os.environ.get("MLFLOW_TRACKING_URI")
        mlflow.set_tracking_uri(uri)  # for log_model and models:/ URIs
        # ...which also exports it to the environment, where our own --tracking-uri option
        # would read it back (e.g. another store's CLI call in the same process): undo that
        if previous is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = previous
        return cls(MlflowClient(tracking_uri=uri), uri, (store / "artifacts").resolve())

    # ---- experiments and campaigns -------------------------------------------------------

    def experiment_id(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        if found:
            return found.experiment_id
        location = None
        if self.uri.startswith("sqlite:"):  # keep artifacts inside the store
            location = (self.artifact_root / name).as_uri()
        # the MLflow UI opens it in "Model training" mode (runs, metrics, params), not GenAI
        return self.client.create_experiment(name, artifact_location=location,
                                             tags={T.EXPERIMENT_KIND: T.MODEL_TRAINING})

    def find_campaign(self, name: str):
        """The campaign's parent run, searched across all experiments; None if there is none."""
        ids = [e.experiment_id for e in self.client.search_experiments()]
        runs = self.client.search_runs(
            ids, filter_string=f"tags.{T.KIND} = 'campaign' and tags.{T.CAMPAIGN} = "
                               f"'{_quote(name)}'", max_results=1) if ids else []
        return runs[0] if runs else None

    def require_campaign(self, name: str):
        """The campaign's parent run, or the one input error every command gives."""
        run = self.find_campaign(name)
        if run is None:
            raise InputError(self.uri, "NAME", f"no campaign named {name!r}")
        return run

    def campaigns(self) -> list[Any]:
        ids = [e.experiment_id for e in self.client.search_experiments()]
        return list(self.client.search_runs(ids, filter_string=f"tags.{T.KIND} = 'campaign'",
                                            order_by=["attributes.start_time DESC"],
                                            max_results=1000)) if ids else []

    def experiment_name(self, experiment_id: str) -> str:
        return self.client.get_experiment(experiment_id).name

    def start_campaign(self, experiment: str, name: str, tags: dict[str, Any],
                       params: dict[str, Any], texts: dict[str, str]) -> str:
        run = self.client.create_run(self.experiment_id(experiment), run_name=name,
                                     tags={T.KIND: "campaign", T.CAMPAIGN: name,
                                           **_strings(tags)})
        self.client.log_batch(run.info.run_id, params=[Param(k, str(v)[:6000])
                                                       for k, v in params.items()])
        for path, text in texts.items():
            self.client.log_text(run.info.run_id, text, path)
        return run.info.run_id

    def resume_campaign(self, run_id: str) -> None:
        self.client.update_run(run_id, status="RUNNING")

    def end_run(self, run_id: str, status: str = "FINISHED") -> None:
        self.client.set_terminated(run_id, status=status)

    def set_tags(self, run_id: str, tags: dict[str, Any]) -> None:
        self.client.log_batch(run_id, tags=[RunTag(k, v) for k, v in _strings(tags).items()])

    # ---- trials --------------------------------------------------------------------------

    def start_trial(self, parent_id: str, run_name: str, params: dict[str, Any],
                    tags: dict[str, Any]) -> str:
        if parent_id not in self._experiment_of:
            self._experiment_of[parent_id] = self.client.get_run(parent_id).info.experiment_id
        run = self.client.create_run(self._experiment_of[parent_id], run_name=run_name, tags={
            T.PARENT_RUN_ID: parent_id, T.KIND: "trial", **_strings(tags)})
        self.client.log_batch(run.info.run_id, params=[Param(k, str(v)) for k, v in
                                                       params.items()])
        return run.info.run_id

    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int = 0) -> None:
        now = int(time.time() * 1000)
        self.client.log_batch(run_id, metrics=[Metric(k, float(v), now, step)
                                               for k, v in metrics.items()])

    def log_files(self, run_id: str, texts: dict[str, str] | None = None,
                  figures: dict[str, Any] | None = None) -> None:
        for path, text in (texts or {}).items():
            self.client.log_text(run_id, text, path)
        for path, figure in (figures or {}).items():
            self.client.log_figure(run_id, figure, path)

    def log_folder(self, run_id: str, folder: Path, artifact_path: str) -> None:
        """Every file of `folder` under `artifact_path/` of the run."""
        self.client.log_artifacts(run_id, str(folder), artifact_path)

    def children(self, parent_id: str) -> list[Any]:
        experiment_id = self.client.get_run(parent_id).info.experiment_id
        return list(self.client.search_runs(
            [experiment_id], filter_string=f"tags.{T.PARENT_RUN_ID} = '{parent_id}'",
            order_by=["attributes.start_time ASC"], max_results=10000))

    def trial_rows(self, parent_id: str) -> list[dict[str, Any]]:
        """The campaign's child runs as plain dicts (what tables and reports read)."""
        return [{
            "run_id": r.info.run_id, "run_name": r.info.run_name, "status": r.info.status,
            "start_ms": r.info.start_time, "end_ms": r.info.end_time,
            "params": dict(r.data.params), "metrics": dict(r.data.metrics),
            "tags": dict(r.data.tags)} for r in self.children(parent_id)]

    def unreachable(self, err: BaseException) -> bool:
        """Whether `err` says the tracking server did not answer. MLflow retries each HTTP
        request with exponential backoff first (env MLFLOW_HTTP_REQUEST_MAX_RETRIES, default 7;
        MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR, default 2 s; MLFLOW_HTTP_REQUEST_TIMEOUT, default
        120 s), so this is a server that stayed away for minutes."""
        if not self.uri.startswith(("http:", "https:")):
            return False
        text = f"{type(err).__name__}: {err}"
        return any(s in text for s in ("Max retries exceeded", "Connection refused",
                                       "ConnectionError", "Failed to establish a new connection",
                                       "RemoteDisconnected", "Read timed out"))

    def read_text(self, run_id: str, path: str) -> str:
        """A text artifact of a run (downloaded to a temporary folder that is removed)."""
        with tempfile.TemporaryDirectory(prefix="sentiment-hpo-") as tmp:
            return Path(self.client.download_artifacts(run_id, path, tmp)).read_text()

    # ---- models --------------------------------------------------------------------------

    def log_classifier(self, run_id: str, classifier) -> str:
        """Log a TextClassifier as a pyfunc model that predicts on raw text; returns its URI."""
        import keras

        with tempfile.TemporaryDirectory() as tmp:
            folder = classifier.save(Path(tmp) / "classifier")
            mlflow.start_run(run_id=run_id)  # log_model logs to the active run only
            try:
                info = mlflow.pyfunc.log_model(
                    name="model", python_model=RawTextModel(),
                    artifacts={"classifier": str(folder)},
                    code_paths=[str(PACKAGE_DIR)],
                    # explicit requirements: inferring them costs ~7 s per model
                    pip_requirements=[f"keras=={keras.__version__}", _tensorflow_requirement(),
                                      "pandas", "numpy", "scikit-learn"])
            finally:
                # leave the run RUNNING (a `with start_run` would end it FINISHED): the campaign
                # finishes it only after Ax is told, the order campaign/records.py relies on
                mlflow.end_run(status="RUNNING")
        self.set_tags(run_id, {T.MODEL_URI: info.model_uri})
        return info.model_uri

    def load_classifier(self, run_id: str):
        """The TextClassifier of a run's logged model; None if the run logged none.

        Read from the model's artifacts (Keras file + vocabulary JSON), not by unpickling the
        pyfunc wrapper: no pickle is read, and models logged by older layouts of this package
        (whose wrapper class lived at another module path) load the same way."""
        from ...evaluation import TextClassifier

        uri = self.client.get_run(run_id).data.tags.get(T.MODEL_URI)
        if not uri:
            return None
        model = self.client.get_logged_model(uri.rsplit("/", 1)[-1])
        with tempfile.TemporaryDirectory() as tmp:
            folder = mlflow.artifacts.download_artifacts(
                artifact_uri=f"{model.artifact_location}/artifacts/classifier", dst_path=tmp)
            return TextClassifier.load(Path(folder))


class RawTextModel(mlflow.pyfunc.PythonModel):
    """pyfunc wrapper: `mlflow.pyfunc.load_model(uri).predict(DataFrame({'text': [...]}))`."""

    def load_context(self, context):
        from sentiment_core.evaluation import TextClassifier

        self.classifier = TextClassifier.load(Path(context.artifacts["classifier"]))

    def predict(self, context, model_input: list[str], params=None):
        """Texts as a list of strings, a DataFrame with a `text` column, or its records."""
        if hasattr(model_input, "columns"):
            model_input = model_input["text"]
        texts = [row["text"] if isinstance(row, dict) else row for row in model_input]
        return self.classifier.predict([str(t) for t in texts])


def _tensorflow_requirement() -> str:
    import tensorflow as tf

    return f"tensorflow-cpu=={tf.__version__}"


def _strings(tags: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in tags.items() if v is not None}


def _quote(text: str) -> str:
    return text.replace("'", "\\'")
