"""The MLflow UI and tracking server: `server` (the one `mlflow server` builder) and `ui` (the
UI's landing pages for a campaign, set up over MLflow's REST API: no MLflow import)."""
