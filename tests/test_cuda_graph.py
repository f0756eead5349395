"""DeepGAN's critic step captured as a CUDA graph: its plumbing on the CPU, and the eager fallback."""

from __future__ import annotations

import logging

import torch

from deepnag.train import methods
from tests.test_methods import EagerGraph, _two_epochs


def test_the_graphed_critic_step_path_trains_as_the_eager_one(shared_data, monkeypatch):
    monkeypatch.setattr(methods, "GraphedBackward", EagerGraph)
    graphed, graphed_metrics = _two_epochs(shared_data, graphed=True)
    eager, eager_metrics = _two_epochs(shared_data, graphed=False)
    assert isinstance(graphed.critic_graph, EagerGraph) and graphed.critic_graph.calls == 6 and eager.critic_graph is None
    assert graphed_metrics == eager_metrics
    assert all(torch.equal(a, b) for a, b in zip(graphed.critic.parameters(), eager.critic.parameters()))


def test_a_critic_step_that_cannot_be_captured_runs_eagerly_with_a_warning(shared_data, monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise RuntimeError("operation not permitted when stream is capturing\nmore detail")

    monkeypatch.setattr(methods, "GraphedBackward", refuse)
    with caplog.at_level(logging.WARNING, logger="deepnag.train.methods"):
        fallback, fallback_metrics = _two_epochs(shared_data, graphed=True)
    _, eager_metrics = _two_epochs(shared_data, graphed=False)
    assert fallback.critic_graph is None and not fallback.use_cuda_graph and fallback_metrics == eager_metrics
    assert [r.getMessage() for r in caplog.records] == [
        "could not capture DeepGAN's critic step as a CUDA graph (operation not permitted when stream is "
        "capturing); running it eagerly"]
