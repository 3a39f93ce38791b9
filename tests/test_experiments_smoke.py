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


def load_case(path: Path, variant: str | None):
    return load_variants(path)[variant] if variant else load_experiment(path)


def case_id(path: Path, variant: str | None) -> str:
    return f"{path.stem}{'-' + variant if variant else ''}"


def training_cases() -> list:
    """Every case trains in `make test-full`. The fast tier trains the staged ones only: every
    family already trains in `tests/models/test_families.py`, and every experiment still
    prepares its data and builds its model here."""
    cases = []
    for path, variant in CASES:
        fast = bool(load_case(path, variant).stages)
        cases.append(pytest.param(path, variant, id=case_id(path, variant),
                                  marks=() if fast else pytest.mark.slow))
    return cases


@pytest.mark.parametrize("path,variant", CASES, ids=[case_id(p, v) for p, v in CASES])
def test_experiment_prepares_its_data_and_builds_its_model(path, variant, tmp_path):
    from sentiment_core.models import build_model, train_feature_stats

    experiment = load_case(path, variant)
    tiny = dataclasses.replace(experiment, data=tiny_data(tmp_path, experiment.data, 1))
    data = prepare(tiny, tmp_path, None)
    params = one_epoch(experiment.space.defaults())
    vocab_size, family = len(data.vocabulary), experiment.model.family
    model = build_model(family, params, vocab_size, data.sequence_length,
                        len(data.class_names), train_feature_stats(family, data.x_train,
                                                                   vocab_size),
                        vocabulary=data.vocabulary, train_ids=data.x_train,
                        train_labels=data.y_train)
    assert model.count_params() > 0 and model.optimizer is not None


@pytest.mark.parametrize("path,variant", training_cases())
def test_experiment_loads_and_runs_a_one_epoch_trial(path, variant, tmp_path):
    experiment = load_case(path, variant)
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
