"""The campaign's self-contained HTML report."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess

import pandas as pd
import pytest

from sentiment_core.campaign import open_campaign, write_report
from sentiment_core.campaign.review.html_report import STYLE, table5_html
from sentiment_core.evaluation import seed_rows, table5


def test_report_is_one_self_contained_page(finished_copy, tmp_path):
    _, store, _ = finished_copy  # the report logs test metrics and files: this test's own store
    ctx = open_campaign(store, "tiny-4", progress=lambda m: None)
    page = write_report(ctx, tmp_path, progress=lambda m: None)
    text = page.read_text()
    for section in ("Table 5", "Optimization", "Best trial", "Baselines on the same splits",
                    "Election analysis", "Reproduction", "Error analysis"):
        assert f"<h2>{section}" in text
    assert text.count("data:image/png;base64,") >= 9 and "src=\"http" not in text
    table = text[text.index('<div class="wide" id="table5">'):]
    table = table[:table.index("</table>")]
    assert table.count("<td>*</td>") == 1  # the best trial is marked, and only it
    assert {"trace.png", "parallel_coordinates.png", "importance.png", "election.png",
            "best_roc_test.png", "baselines.csv", "error_analysis.csv"} <= \
        {p.name for p in page.parent.iterdir()}
    logged = {a.path for a in ctx.tracker.client.list_artifacts(ctx.parent.info.run_id,
                                                                "report")}
    assert "report/report.html" in logged
    assert list((store.path / "artifacts").rglob("report/report.html"))  # in this copy only
    best = ctx.tracker.client.get_run(ctx.best["run_id"])
    assert "test_accuracy" in best.data.metrics  # the final model scored once on test
    splits = list(csv.DictReader((page.parent / "baselines.csv").open()))
    splits = [row["split"] for row in splits]  # validation, test per row, test per tweet
    assert splits == sorted(splits, key=["val", "test", "test_tweets"].index)
    assert "test_tweets" in splits and "each distinct tweet once" in text

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
    box, content, whole = fit_at(text, tmp_path)
    assert content <= box and whole <= 1400, (box, content, whole)  # Table 5 fits 1,400 px


MEASURE = """<script>window.addEventListener("load", () => {
  const box = document.getElementById("table5");
  document.body.setAttribute("data-fit", [box.clientWidth, box.scrollWidth,
    document.documentElement.scrollWidth].join(","));
});</script></body>"""


def fit_at(page_html: str, tmp_path, width: int = 1400) -> tuple[int, int, int]:
    """(Table 5's box width, its content's width, the page's width) in Chromium at `width`."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("headless Chromium not installed (.ci/run installs it)")
    page = tmp_path / "measured.html"
    page.write_text(page_html.replace("</body>", MEASURE), encoding="utf-8")
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                          "--no-first-run", f"--user-data-dir={tmp_path / 'fit-profile'}",
                          f"--window-size={width},1000", "--virtual-time-budget=5000",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120, check=False).stdout
    box, content, whole = re.search(r'data-fit="(\d+),(\d+),(\d+)"', dom).groups()
    return int(box), int(content), int(whole)


def widest_table5() -> pd.DataFrame:
    """The widest Table 5 the spaces give: table5_lexical's 8 parameters, a noise-aware
    objective (± sd, best_epoch a mean over folds) and seed 000's paper rows."""
    params = ["learning_rate", "dropout_rate", "lstm_units", "neurons_dense", "num_epochs",
              "batch_size", "embedding_size", "lexical_units"]
    rows = []
    for i in range(20):
        values = [0.000598 * (i + 1), 0.0205 * i, 10, 20, 12, 1024, 441, 16]
        rows.append({"run_id": f"r{i}", "status": "FINISHED", "start_ms": 1000,
                     "end_ms": 1000 + 123_456 * (i + 1),
                     "tags": {"source": "campaign", "ax_trial_index": str(i),
                              "arm_name": f"{i}_0", "generation": "BoTorch"},
                     "metrics": {"val_macro_f1": 0.71234567 + i / 1000,
                                 "val_macro_f1_sd": 0.0123456, "best_epoch": 3.5 + (i % 2) / 2},
                     "params": {p: str(v) for p, v in zip(params, values)}})
    rows += [{"run_id": arm, "status": "FINISHED", "start_ms": None, "end_ms": None,
              "tags": {"source": "paper", "ax_trial_index": arm.split("_")[1], "arm_name": arm},
              "metrics": {"paper_keras_cv": value},
              "params": {p: str(v) for p, v in values.items()}}
             for arm, values, value in seed_rows()]
    return table5(rows, params, "val_macro_f1", "maximize")


def test_table5_fits_a_1400_pixel_page_and_reads_well(tmp_path):
    frame = widest_table5()
    assert len(frame.columns) == 18
    section = table5_html(frame)
    cells = re.findall(r"<td>([^<]*)</td>", section)
    assert "3.5" in cells and "4" in cells  # best_epoch: a mean with one decimal, or an epoch
    assert "0.7123" in cells and "0.0123" in cells and "0.000598" in cells and "1024" in cells
    assert "3.500000" not in section and "0.71234567" not in section
    assert "learning_<wbr>rate" in section  # a long name may wrap at its underscores
    box, content, whole = fit_at(f"<!doctype html><html><head><style>{STYLE}</style></head>"
                                 f"<body><h2>Table 5</h2>{section}</body></html>", tmp_path)
    assert content <= box and whole <= 1400, (box, content, whole)  # no sideways scrolling
