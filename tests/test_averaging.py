"""The moving average of the generator's weights (--ema) against its definition, and its continuation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from deepnag.train.averaging import WeightAverage, decay_after


def test_the_decay_ramps_up_and_is_capped():
    assert decay_after(0, 0.999) == pytest.approx(1 / 10)
    assert decay_after(90, 0.999) == pytest.approx(91 / 100)
    assert decay_after(10**6, 0.999) == 0.999
    assert decay_after(10**6, 0.9) == 0.9


def _trajectory(steps: int, seed: int = 0) -> list[dict[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(seed)
    return [{"weight": torch.randn(3, 2, generator=generator), "bias": torch.randn(3, generator=generator)}
            for _ in range(steps)]


def _reference(weights: list[dict[str, torch.Tensor]], decay: float) -> dict[str, torch.Tensor]:
    """The definition in float64 with plain loops: copy the first weights, then a ramped EMA of the rest."""
    average = {k: v.double().clone() for k, v in weights[0].items()}
    for t, current in enumerate(weights[1:], start=1):
        d = min(decay, (1 + t) / (10 + t))
        for k in average:
            average[k] = d * average[k] + (1 - d) * current[k].double()
    return average


def _fold(average: WeightAverage, network: nn.Linear, weights: list[dict[str, torch.Tensor]]) -> None:
    for w in weights:
        with torch.no_grad():
            network.weight.copy_(w["weight"])
            network.bias.copy_(w["bias"])
        average.update(network)


@pytest.mark.parametrize("decay", [0.5, 0.95, 0.999])
def test_the_average_follows_its_definition(decay):
    weights = _trajectory(60)
    network = nn.Linear(2, 3)
    average = WeightAverage(network, decay)
    _fold(average, network, weights)
    expected = _reference(weights, decay)
    assert average.updates == 60
    for name, value in average.module.state_dict().items():
        torch.testing.assert_close(value.double(), expected[name], rtol=1e-5, atol=1e-6)
    assert not any(p.requires_grad for p in average.module.parameters())
    assert network.weight is not average.module.weight  # a copy, not the trained network


def test_a_restored_average_continues_as_if_never_stopped():
    weights = _trajectory(40, seed=1)
    network = nn.Linear(2, 3)
    straight = WeightAverage(network, 0.99)
    _fold(straight, network, weights)
    first = WeightAverage(network, 0.99)
    _fold(first, network, weights[:25])
    resumed = WeightAverage(nn.Linear(2, 3), 0.99)
    resumed.module.load_state_dict(first.module.state_dict())  # as a checkpoint restores it
    resumed.updates = first.updates
    _fold(resumed, network, weights[25:])
    for name, value in straight.module.state_dict().items():
        torch.testing.assert_close(resumed.module.state_dict()[name], value)


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5])
def test_a_decay_outside_the_open_interval_is_refused(decay):
    with pytest.raises(ValueError, match="decay must lie in"):
        WeightAverage(nn.Linear(2, 3), decay)
