"""Fine-tuning stages: base campaign -> fine-tune -> fine-tune, each stage freezing exactly the
layers it names, reading its data with the parent's vocabulary, linked to its parent in MLflow,
and summarized in seed 001's benchmark table."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import yaml

from conftest import copy_store, forget_artifact_locations, make_tweets, write_csv
from sentiment_core.campaign import Store, benchmark, run_campaign, run_stages, stage_data
from sentiment_core.data import build_vocabulary, load_labeled
from sentiment_core.errors import InputError
from sentiment_core.experiments import load_experiment
from sentiment_core.models import FAMILIES, fine_tune_model

SPACE = {"parameters": {"learning_rate": {"type": "float", "bounds": [0.005, 0.05],
                                          "log_scale": True}},
         "fixed": {"embedding_size": 8, "neurons_dense": 4, "dropout_rate": 0.0, "num_epochs": 1,
                   "batch_size": 32}}


def csv_source(name: str) -> dict:
    return {"dataset": "csv", "path": name, "text_column": "text",
            "label_column": "sentiment",
            "label_mapping": {"Negative": "negative", "Positive": "positive"}}


# session, not module: work stealing interleaves modules, and pytest tears a module fixture
# down whenever the next test comes from another module (three set-ups of one campaign)
@pytest.fixture(scope="session")
def staged(tmp_path_factory):
    root = tmp_path_factory.mktemp("stages")
    write_csv(root / "base.csv", make_tweets(200, seed=11))
    # the stages' tweets add words the base never saw: a vocabulary of their own would differ
    for name, seed in (("first.csv", 12), ("second.csv", 13)):
        rows = make_tweets(160, seed=seed)
        write_csv(root / name, [{**r, "text": r["text"] + f" {name[:-4]}word{i % 7}"}
                                for i, r in enumerate(rows)])
    (root / "space.yaml").write_text(yaml.safe_dump(SPACE))
    raw = {
        "name": "tiny_stages",
        "data": csv_source("base.csv"),
        "cleaning": ["rt_marker", "urls", "mentions", "lowercase", "punctuation"],
        "split": {"validation": 0.2, "test": 0.2},
        "vectorization": {"max_tokens": 100, "sequence_length": 12},
        "model": {"family": "avgpool"},  # seed 001's own family: the smoke test
        "search_space": str(root / "space.yaml"),
        "objective": {"metric": "val_accuracy"},
        "budget": {"trials": 2},
        "seed": 5,
        "reference": {"seed": "001", "metric": "test_accuracy", "value": 0.8,
                      "note": "another corpus"},
        "stages": [
            {"name": "first", "data": csv_source("first.csv"), "freeze": ["embedding"],
             "params": {"num_epochs": 2}},
            {"name": "second", "data": csv_source("second.csv"),
             "freeze": ["embedding", "dense"], "params": {"learning_rate": 0.001}},
        ],
    }
    (root / "experiments").mkdir()
    (root / "experiments" / "staged.yaml").write_text(yaml.safe_dump(raw))
    experiment = load_experiment(root / "experiments" / "staged.yaml")
    store = Store(root / "store", root)
    run_campaign(experiment, "staged-1", 2, store, progress=lambda m: None)
    results = run_stages(experiment, "staged-1", store, progress=lambda m: None)
    return experiment, store, results, root


@pytest.fixture
def staged_copy(staged, tmp_path):
    """The staged campaign in this test's own copy of the store: for tests that add or
    supersede runs (the shared store is read by the others, on any worker, in any order)."""
    experiment, store, results, root = staged
    copy = copy_store(store, tmp_path / "staged-store")
    forget_artifact_locations()
    yield experiment, copy, results, root
    forget_artifact_locations()


def classifier(store, run_id):
    return store.tracker().load_classifier(run_id)


def test_each_stage_starts_from_the_previous_model_and_records_the_link(staged):
    experiment, store, results, _ = staged
    tracker = store.tracker()
    campaign = tracker.find_campaign("staged-1")
    assert [r.name for r in results] == ["first", "second"]
    assert results[0].parent_run_id == campaign.data.tags["best_run_id"]
    assert results[1].parent_run_id == results[0].run_id
    for result, stage in zip(results, experiment.stages):
        tags = tracker.client.get_run(result.run_id).data.tags
        assert tags["mlflow.parentRunId"] == campaign.info.run_id
        assert tags["parent_model_run_id"] == result.parent_run_id
        assert tags["source"] == "stage" and tags["stage"] == stage.name
        assert tags["frozen_layers"] == ",".join(stage.freeze)  # exactly what it says
        assert tags["model_uri"].startswith("models:/")


def test_frozen_layers_keep_the_parents_weights_and_the_rest_train(staged):
    experiment, store, results, _ = staged
    for result, stage in zip(results, experiment.stages):
        parent = classifier(store, result.parent_run_id).model
        child = classifier(store, result.run_id).model
        for layer in child.layers:
            if not layer.weights:
                continue
            same = all(np.array_equal(a, b) for a, b in
                       zip(layer.get_weights(), parent.get_layer(layer.name).get_weights()))
            assert same == (layer.name in stage.freeze), (stage.name, layer.name)


def test_stages_read_their_data_with_the_parents_vocabulary(staged):
    experiment, store, results, _ = staged
    tracker = store.tracker()
    base = classifier(store, tracker.find_campaign("staged-1").data.tags["best_run_id"])
    for result, stage in zip(results, experiment.stages):
        child = classifier(store, result.run_id)
        assert child.vocabulary == base.vocabulary
        assert (child.cleaning, child.sequence_length) == (base.cleaning, base.sequence_length)
        data = stage_data(store, experiment, stage, base)
        assert data.vocabulary == base.vocabulary
        own = build_vocabulary(load_labeled(dataclasses.replace(experiment, data=stage.data),
                                            store.data_dir).frame["clean"], 100, 1)
        assert own != base.vocabulary  # the stage's words would have made another vocabulary
        assert (data.x_train == 1).any()  # its new words are out of the parent's vocabulary


def test_benchmark_table_has_a_row_per_stage_with_seed_001s_columns(staged):
    _, store, _, _ = staged
    table = benchmark(store, "staged-1")
    assert list(table["stage"]) == ["base", "first", "second"]
    for column in ("accuracy", "precision_negative", "recall_negative", "f1_negative",
                   "precision_positive", "recall_positive", "f1_positive", "macro_f1"):
        assert table[column].notna().all(), column
    assert (table["test_rows"] > 0).all()


def test_finished_stages_are_reused_when_run_again(staged):
    experiment, store, results, _ = staged
    again = run_stages(experiment, "staged-1", store, progress=lambda m: None)
    assert [r.run_id for r in again] == [r.run_id for r in results]


def test_freezing_an_unknown_layer_is_one_clear_error():
    from sentiment_core.models import build_model

    params = FAMILIES["lstm"].example_params()
    model = build_model("lstm", params, 30, 8)
    with pytest.raises(InputError, match="no layer named 'bilstm'") as err:
        fine_tune_model(model, ["bilstm"], params, 2)
    assert "embedding, lstm, dense, output" in err.value.message
    tuned = fine_tune_model(model, ["embedding", "lstm"], params, 2)
    assert [l.name for l in tuned.layers if not l.trainable] == ["embedding", "lstm"]


def test_results_table_reads_campaign_stages_baselines_and_the_seed_figure(staged):
    from sentiment_core.campaign import write_results

    experiment, store, results, root = staged
    text = write_results(store, root / "experiments", root / "RESULTS.md")
    assert (root / "RESULTS.md").read_text() == text
    lines = [line for line in text.splitlines() if line.startswith("| tiny_stages")]
    assert len(lines) == 3  # the campaign and its two stages
    campaign = store.tracker().find_campaign("staged-1")
    test_accuracy = campaign.data.metrics["test_accuracy"]
    vader = campaign.data.metrics["baseline_vader_test_accuracy"]
    assert f"{test_accuracy:.3f}" in lines[0] and f"{vader:.3f}" in lines[0]
    per_tweet = (campaign.data.metrics["test_tweets_macro_f1"],
                 campaign.data.metrics["baseline_tfidf_logreg_test_tweets_macro_f1"])
    assert "| {:.3f} / {:.3f} |".format(*per_tweet) in lines[0]  # each distinct tweet once
    assert "0.800 test accuracy (seed 001)" in lines[0] and "2 trials" in lines[0]
    assert "stage first" in lines[1] and "frozen: embedding" in lines[1]
    assert f"Our test accuracy {test_accuracy:.3f} vs seed 001's 0.800" in text
    assert "against VADER" in text and "TF-IDF + LR" in text


def test_stages_can_start_from_any_logged_run_without_a_base_campaign(staged_copy):
    experiment, store, results, _ = staged_copy
    tracker = store.tracker()
    source = results[0].run_id  # the first stage's model, a logged run
    only_last = dataclasses.replace(experiment, stages=experiment.stages[1:])
    again = run_stages(only_last, "from-a-run", store, start_from=source,
                       progress=lambda m: None)
    assert [r.parent_run_id for r in again] == [source]
    campaign = tracker.find_campaign("from-a-run")
    assert campaign.data.tags["stages_only"] == "true"
    assert tracker.client.get_run(again[0].run_id).data.tags["mlflow.parentRunId"] == \
        campaign.info.run_id
    assert list(benchmark(store, "from-a-run")["stage"]) == ["second"]


def test_a_changed_stage_runs_again_and_supersedes_the_old_run(staged_copy):
    experiment, store, results, _ = staged_copy
    second = dataclasses.replace(experiment.stages[1], params={"learning_rate": 0.002})
    changed = dataclasses.replace(experiment, stages=[experiment.stages[0], second])
    again = run_stages(changed, "staged-1", store, progress=lambda m: None)
    assert again[0].run_id == results[0].run_id  # unchanged: reused
    assert again[1].run_id != results[1].run_id and again[1].parent_run_id == results[0].run_id
    tags = store.tracker().client.get_run(results[1].run_id).data.tags
    assert tags["superseded"] == "true"
    table = benchmark(store, "staged-1")
    assert list(table["stage"]) == ["base", "first", "second"]
    assert table["run_id"].iloc[2] == again[1].run_id[:8]
