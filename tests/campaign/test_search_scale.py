"""The optimizer at scale: past `optimizer.lean_after` completed trials the BoTorch phase
optimizes its acquisition function with a fifth of the effort (benchmarks/optimizer_scale.py
measures the time; here the work is counted, which does not depend on the machine's load)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from sentiment_core.campaign import Search
from sentiment_core.campaign.store.search import LEAN_NODE


def value(params: dict) -> tuple[float, float]:
    """A synthetic objective (no training): a smooth bump, told with a standard error."""
    return (0.8 - 0.05 * math.log(params["learning_rate"] / 0.01) ** 2
            - 0.5 * (params["dropout_rate"] - 0.1) ** 2 - 0.01 * (params["neurons_dense"] - 5) ** 2,
            0.01)


@pytest.fixture
def acquisition_points():
    """Candidate points the acquisition function is evaluated at, counted through a forward
    hook on every BoTorch acquisition function."""
    import torch
    from botorch.acquisition.acquisition import AcquisitionFunction

    counted = [0]

    def hook(module, args, output):
        if isinstance(module, AcquisitionFunction):
            x = args[0]
            counted[0] += x.shape[0] if x.dim() > 2 else 1  # batch x q x d

    handle = torch.nn.modules.module.register_module_forward_hook(hook)
    yield counted
    handle.remove()


def opened(experiment, tmp_path, name: str, lean_after: int) -> Search:
    optimizer = dataclasses.replace(experiment.optimizer, initialization_trials=3,
                                    lean_after=lean_after)
    return Search.open(name, experiment.space, experiment.objective, optimizer, experiment.seed,
                       tmp_path / f"{name}.db")


def asked_until_bayesian(search: Search, metric: str) -> None:
    """Center and Sobol trials, told, until the next ask is the BoTorch phase's."""
    while search.phase() != "BoTorch":
        for index, params in search.ask(1).items():
            search.tell(index, {metric: value(params)})


def test_past_lean_after_an_ask_does_a_fraction_of_the_acquisition_work(
        tiny_experiment, tmp_path, acquisition_points):
    metric = tiny_experiment.objective.metric
    work = {}
    for name, lean_after in (("full", 0), ("lean", 3)):
        search = opened(tiny_experiment, tmp_path, name, lean_after)
        asked_until_bayesian(search, metric)
        acquisition_points[0] = 0
        asked = search.ask(1)
        work[name] = acquisition_points[0]
        node = search.client._generation_strategy.current_node_name
        assert node == (LEAN_NODE if name == "lean" else "MBM")
        assert [search.generation_of(i) for i in asked] == ["BoTorch"]
        for index, params in asked.items():
            search.tell(index, {metric: value(params)})
    assert work["full"] > 0
    assert work["lean"] <= 0.35 * work["full"], work

    # the lean node is stored with the campaign: a resumed campaign stays lean
    resumed = opened(tiny_experiment, tmp_path, "lean", 3)
    acquisition_points[0] = 0
    assert list(resumed.ask(1)) and acquisition_points[0] <= 0.35 * work["full"]
    assert resumed.client._generation_strategy.current_node_name == LEAN_NODE


def test_lean_after_zero_keeps_axs_own_strategy(tiny_experiment, tmp_path):
    search = opened(tiny_experiment, tmp_path, "plain", 0)
    assert LEAN_NODE not in search.client._generation_strategy.nodes_by_name
