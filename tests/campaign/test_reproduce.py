"""Retraining a trial from what MLflow recorded."""

from __future__ import annotations

from sentiment_core.campaign import reproduce_trial


def test_reproduce_gives_the_identical_metric(finished_copy):
    _, store, summary = finished_copy  # reproducing adds a run: this test's own store
    tracker = store.tracker()
    before = len(tracker.children(summary.parent_run_id))
    report = reproduce_trial(store, "tiny-4", "best", extra_seeds=2, progress=lambda m: None)
    assert report.identical, (report.stored, report.reproduced)
    assert len(report.other_seeds) == 2
    assert set(report.test_metrics) >= {"test_accuracy", "test_macro_f1"}
    run = tracker.client.get_run(report.run_id)
    assert run.data.tags["reproduces"] == report.source_run_id
    assert run.data.tags["source"] == "reproduce"
    assert len(tracker.children(summary.parent_run_id)) == before + 1
    assert run.info.artifact_uri.startswith(store.path.resolve().as_uri())
