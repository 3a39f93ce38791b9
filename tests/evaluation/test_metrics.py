"""Metrics against scikit-learn, plots, baselines, error analysis, election, report, and the
evaluate/predict/election commands."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn import metrics as sk

from sentiment_core.evaluation import plots
from sentiment_core.evaluation.analysis import error_analysis
from sentiment_core.evaluation.baselines import baseline_table
from sentiment_core.cli import cli
from sentiment_core.evaluation.election import candidates_by_keywords, election_table
from sentiment_core.evaluation.metrics import classification_metrics, evaluation, optimal_threshold

Y = np.array([0, 0, 0, 0, 1, 1, 1, 0, 1, 0])
P = np.array([0.1, 0.4, 0.35, 0.8, 0.7, 0.55, 0.2, 0.05, 0.9, 0.6])
NAMES = ["negative", "positive"]


def test_metrics_match_scikit_learn_on_fixed_predictions():
    predicted = (P >= 0.5).astype(int)
    summary = classification_metrics(Y, P)
    assert summary["accuracy"] == sk.accuracy_score(Y, predicted) == 0.7
    assert summary["precision"] == sk.precision_score(Y, predicted)
    assert summary["recall"] == sk.recall_score(Y, predicted)
    assert summary["macro_f1"] == sk.f1_score(Y, predicted, average="macro")
    assert summary["roc_auc"] == sk.roc_auc_score(Y, P)
    full = evaluation(Y, P, NAMES)
    assert full["confusion_matrix"] == [[4, 2], [1, 3]]
    assert full["per_class"]["negative"]["recall"] == pytest.approx(4 / 6)
    assert full["per_class"]["positive"]["precision"] == pytest.approx(3 / 5)
    assert full["per_class"]["negative"]["support"] == 6
    assert "macro avg" in full["report"]
    at_03 = evaluation(Y, P, NAMES, threshold=0.3)
    assert at_03["confusion_matrix"] == [[2, 4], [1, 3]]  # 0.4, 0.35, 0.8, 0.6 pass 0.3


def test_three_class_metrics_are_macro():
    y = np.array([0, 1, 2, 2, 1, 0])
    proba = np.eye(3)[[0, 1, 2, 1, 1, 2]] * 0.8 + 0.2 / 3
    summary = classification_metrics(y, proba)
    assert summary["f1"] == pytest.approx(sk.f1_score(y, proba.argmax(1), average="macro"))
    assert summary["roc_auc"] == pytest.approx(sk.roc_auc_score(y, proba, multi_class="ovr"))


def test_optimal_threshold_is_at_least_as_good_as_half():
    threshold = optimal_threshold(Y, P)
    at = lambda t: sk.f1_score(Y, (P >= t).astype(int), average="macro")  # noqa: E731
    assert at(threshold) >= at(0.5)


def test_each_plot_writes_a_png(tmp_path):
    frame = pd.DataFrame({"lr": [0.01, 0.001, 0.1], "units": [4, 8, 16], "f1": [0.5, 0.7, 0.6]})
    votes = election_table([["A"], ["B"]], np.array([1, 0]), np.array([1, 1]), NAMES)
    figures = {
        "curves": plots.learning_curves({"loss": [0.6, 0.4], "val_loss": [0.5, 0.45],
                                         "binary_accuracy": [0.7, 0.8],
                                         "val_binary_accuracy": [0.72, 0.75]}),
        "confusion": plots.confusion_matrix(Y, (P >= 0.5).astype(int), NAMES),
        "roc": plots.roc(Y, P, NAMES),
        "trace": plots.optimization_trace([0, 1, 2], np.array([0.5, 0.7, 0.6]),
                                          ["Center", "Sobol", "BoTorch"], "maximize", "f1"),
        "parallel": plots.parallel_coordinates(frame, ["lr", "units"], {"lr"}, "f1"),
        "importance": plots.importance(["lr", "units"], [0.4, -0.1], "importance"),
        "election": plots.election_bars(votes),
    }
    for name, figure in figures.items():
        path = tmp_path / f"{name}.png"
        figure.savefig(path)
        plots.close(figure)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_election_label_side_equals_a_hand_count():
    # tweet:      0    1    2    3       4    5    6
    candidates = [["Trump"], ["Trump"], ["Clinton"], ["Trump", "Clinton"], ["Clinton"],
                  ["Trump"], ["None"]]
    labels = np.array([1, 0, 1, 1, 0, 1, 0])
    predicted = np.array([1, 1, 0, 1, 0, 0, 0])
    table = election_table(candidates, predicted, labels, NAMES, exclude=["None"])
    rows = table.set_index("candidate")
    # by hand: Trump tweets 0,1,3,5 -> labels 1,0,1,1; Clinton 2,3,4 -> labels 1,1,0
    assert rows.loc["Trump", ["label_positive", "label_negative"]].tolist() == [3, 1]
    assert rows.loc["Clinton", ["label_positive", "label_negative"]].tolist() == [2, 1]
    assert rows.loc["Trump", "label_ratio"] == 0.75
    assert rows.loc["Trump", ["predicted_positive", "predicted_negative"]].tolist() == [3, 1]
    assert rows.loc["Clinton", "predicted_ratio"] == pytest.approx(1 / 3)
    assert "None" not in rows.index


def test_keyword_rules_assign_candidates():
    found = candidates_by_keywords(["Hillary rocks", "TRUMP and Clinton", "nobody"],
                                   {"Clinton": ["hillary", "clinton"], "Trump": ["trump"]})
    assert found == [["Clinton"], ["Clinton", "Trump"], []]


def test_baselines_on_the_same_splits(tiny_experiment, tiny_data, tmp_path):
    from sentiment_core.data import split_texts

    texts = split_texts(tiny_experiment, tmp_path, tiny_data)
    assert np.array_equal(texts["val"]["label"].to_numpy(), tiny_data.y_val)
    table = baseline_table(texts, tiny_data.class_names, seed=0).set_index(["baseline", "split"])
    majority = np.bincount(tiny_data.y_train).argmax()
    assert table.loc[("majority class", "val"), "accuracy"] == \
        pytest.approx((tiny_data.y_val == majority).mean())
    assert table.loc[("TF-IDF + logistic regression", "test"), "macro_f1"] > 0.8
    assert table.loc[("VADER lexicon", "val"), "roc_auc"] > 0.7  # love/hate words


def test_error_analysis_lists_confident_wrong_first():
    frame = pd.DataFrame({"row": range(10), "text": [f"t{i}" for i in range(10)],
                          "clean": [f"t{i}" for i in range(10)], "group": "", "label": Y})
    table = error_analysis(frame, P, NAMES, n=3)
    wrong = table[table["kind"] == "confident_wrong"]
    assert (wrong["true"] != wrong["predicted"]).all()
    assert wrong["row"].tolist() == [3, 6, 9]  # p 0.8 (neg), 0.2 (pos), 0.6 (neg)
    assert table[table["kind"] == "borderline"]["row"].iloc[0] == 5  # p 0.55


def test_report_is_one_self_contained_page(finished, tmp_path):
    from sentiment_core.campaign import open_campaign, write_report

    _, store, _ = finished
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
                    f"--screenshot={shot}", page.as_uri()], timeout=120, capture_output=True)
    assert shot.exists() and shot.stat().st_size > 50_000  # a rendered page, not a blank one


def test_cli_election_evaluate_and_predict(finished, tmp_path):
    experiment, store, _ = finished
    base = ["--store", str(store.path), "--data-dir", str(store.data_dir)]
    runner = CliRunner()
    result = runner.invoke(cli, [*base, "election", "tiny-4"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Alice" in result.output and "label_ratio" in result.output

    labeled = tmp_path / "other.csv"
    pd.DataFrame({"tweet": ["love this great win", "hate the worst liar", "best honest answer",
                            "bad weak policy"], "y": ["pos", "neg", "pos", "neg"]}).to_csv(
        labeled, index=False)
    result = runner.invoke(cli, [*base, "evaluate", "tiny-4", "--data", str(labeled),
                                 "--text-col", "tweet", "--label-col", "y", "--label-map",
                                 "pos=positive,neg=negative"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "macro_f1" in result.output and "evaluates" in result.output
    runs = store.tracker().children(store.tracker().find_campaign("tiny-4").info.run_id)
    evaluations = [r for r in runs if r.data.tags.get("source") == "evaluate"]
    assert evaluations and "eval_accuracy" in evaluations[0].data.metrics

    result = runner.invoke(cli, [*base, "evaluate", "tiny-4", "--data", str(labeled),
                                 "--text-col", "tweet", "--label-col", "y"])
    assert result.exit_code == 2 and "--label-map" in result.output

    result = runner.invoke(cli, [*base, "election", "tiny-4", "--data", str(labeled),
                                 "--text-col", "tweet"])
    assert result.exit_code == 2 and "election.keywords" in result.output  # no candidates

    result = runner.invoke(cli, [*base, "predict", "tiny-4", "what a great win",
                                 "hate it"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "p_positive" in result.output and result.output.count("\n") == 3


def test_lexicon_baseline_needs_sentiment_words_to_say_positive():
    from sentiment_core.evaluation.baselines import lexicon_proba
    from sentiment_core.evaluation.metrics import predictions

    texts = ["the debate is on channel five", "a great and wonderful answer", "awful, terrible"]
    for mode in ("textblob", "vader"):
        assert predictions(lexicon_proba(texts, mode, 2)).tolist() == [0, 1, 0]
        assert lexicon_proba(texts, mode, 3).argmax(axis=1).tolist() == [1, 2, 0]
