"""The campaign's self-contained HTML report."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from sentiment_core.campaign import open_campaign, write_report


def test_report_is_one_self_contained_page(finished_copy, tmp_path):
    _, store, _ = finished_copy  # the report logs test metrics and files: this test's own store
    ctx = open_campaign(store, "tiny-4", progress=lambda m: None)
    page = write_report(ctx, tmp_path, progress=lambda m: None)
    text = page.read_text()
    for section in ("Table 5", "Optimization", "Best trial", "Baselines on the same splits",
                    "Election analysis", "Reproduction", "Error analysis"):
        assert f"<h2>{section}" in text
    assert text.count("data:image/png;base64,") >= 9 and "src=\"http" not in text
    assert {"trace.png", "parallel_coordinates.png", "importance.png", "election.png",
            "best_roc_test.png", "baselines.csv", "error_analysis.csv"} <= \
        {p.name for p in page.parent.iterdir()}
    logged = {a.path for a in ctx.tracker.client.list_artifacts(ctx.parent.info.run_id,
                                                                "report")}
    assert "report/report.html" in logged
    assert list((store.path / "artifacts").rglob("report/report.html"))  # in this copy only
    best = ctx.tracker.client.get_run(ctx.best["run_id"])
    assert "test_accuracy" in best.data.metrics  # the final model scored once on test

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("headless Chromium not installed (.ci/run installs it)")
    shot = tmp_path / "report.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,2400",
                    f"--screenshot={shot}", page.as_uri()], timeout=120, capture_output=True,
                   check=False)
    assert shot.exists() and shot.stat().st_size > 50_000  # a rendered page, not a blank one
