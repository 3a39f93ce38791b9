"""Every experiment YAML (each variant, each stage) loads and runs one 1-epoch trial on tiny
generated data standing in for its files: the real configuration, family, search space defaults,
cleaning, labels and vectorization; only the data and the epoch count are swapped."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from conftest import ROOT, make_tweets, write_csv
from sentiment_core.config import DataConfig, SourceConfig
from sentiment_core.data import prepare
from sentiment_core.evaluation import TextClassifier
from sentiment_core.experiments import load_experiment, load_variants
from sentiment_core.trial import run_trial

FILES = sorted((ROOT / "experiments").glob("*.yaml"))
CASES = [(path, variant) for path in FILES
         for variant in (list(load_variants(path)) or [None])]


def tiny_data(folder: Path, data: DataConfig, seed: int) -> DataConfig:
    """The same number of sources, each a tiny generated tweet file."""
    sources = []
    for i, _ in enumerate(data.all_sources()):
        path = write_csv(folder / f"tiny-{seed}-{i}.csv", make_tweets(150, seed=seed + i))
        sources.append(SourceConfig("csv", str(path), "text", "sentiment", None,
                                    {"Negative": "negative", "Positive": "positive"}))
    if len(sources) == 1:
        return DataConfig(**dataclasses.asdict(sources[0]))
    return DataConfig(sources=sources, deduplicate=data.deduplicate)


def one_epoch(params: dict) -> dict:
    return {**params, "num_epochs": 1, "batch_size": 32}


@pytest.mark.parametrize("path,variant", CASES,
                         ids=[f"{p.stem}{'-' + v if v else ''}" for p, v in CASES])
def test_experiment_loads_and_runs_a_one_epoch_trial(path, variant, tmp_path):
    experiment = load_variants(path)[variant] if variant else load_experiment(path)
    assert experiment.space is not None and experiment.name
    tiny = dataclasses.replace(experiment, data=tiny_data(tmp_path, experiment.data, 1))
    data = prepare(tiny, tmp_path, None)
    params = one_epoch(experiment.space.defaults())
    result = run_trial(params, data, seed=experiment.seed, family=experiment.model.family)
    assert result.metrics["epochs_run"] == 1
    parent = TextClassifier(result.model, data.vocabulary, experiment.cleaning,
                            data.sequence_length, data.class_names)
    assert len(parent.predict(["what a great debate", "worst answer"])) == 2
    from sentiment_core.campaign import stage_experiment
    from sentiment_core.campaign.review.stages import stage_params

    for number, stage in enumerate(experiment.stages, start=2):
        stage = dataclasses.replace(stage, data=tiny_data(tmp_path, stage.data, 10 * number))
        stage_data = prepare(stage_experiment(experiment, stage, parent), tmp_path, None,
                             vocabulary=parent.vocabulary)
        assert stage_data.vocabulary == parent.vocabulary
        folder = parent.save(tmp_path / f"parent-{number}")
        tuned = run_trial(one_epoch(stage_params(params, stage)), stage_data,
                          seed=experiment.seed, start_from=lambda: TextClassifier.load(
                              folder).model, freeze=stage.freeze)
        assert [layer.name for layer in tuned.model.layers if not layer.trainable] == \
            stage.freeze
        parent = TextClassifier(tuned.model, parent.vocabulary, parent.cleaning,
                                parent.sequence_length, parent.class_names)
